// Machine-level logic: online state, idle-but-held GPUs, summaries from reports.
import type { Gpu, MachineSummary, Report } from '../api/types';

export type MachineState = 'online' | 'stale' | 'offline';

/** Seconds after which the hub calls a machine offline: max(3 × interval, 10 s). */
export function offlineAfterSeconds(intervalSeconds: number | null | undefined): number {
  const i = intervalSeconds && intervalSeconds > 0 ? intervalSeconds : 2;
  return Math.max(3 * i, 10);
}

/**
 * The hub decides online/offline. A machine it still calls online whose last
 * report is well past the offline threshold (e.g. while the hub itself is not
 * answering) is "stale".
 */
export function machineState(
  s: Pick<MachineSummary, 'online' | 'last_seen' | 'interval_seconds'>,
  now: number,
): MachineState {
  if (!s.online) return 'offline';
  if (!s.last_seen) return 'online';
  const seen = Date.parse(s.last_seen);
  if (!Number.isFinite(seen)) return 'online';
  const limit = offlineAfterSeconds(s.interval_seconds) * 2 + 5;
  return (now - seen) / 1000 > limit ? 'stale' : 'online';
}

/**
 * How long, in seconds, a GPU has been idle while held as of `asOf` (the hub's
 * receive time of the report it comes with, so both times are the hub's);
 * null when the hub does not call it idle. The hub decides what idle while
 * held means and when it becomes idle-held (Gpu.idle_held).
 */
export function idleSeconds(g: Pick<Gpu, 'idle_since'>, asOf: string | null | undefined): number | null {
  if (!g.idle_since) return null;
  const since = Date.parse(g.idle_since);
  const at = asOf ? Date.parse(asOf) : NaN;
  if (!Number.isFinite(since)) return null;
  return Number.isFinite(at) ? Math.max(0, (at - since) / 1000) : 0;
}

/** Summary fields that say nothing about the report's figures: watch events may update them between reports. */
export const STATUS_FIELDS = ['online', 'can_kill', 'hostname_conflict'] as const;

/**
 * The summary to show with a machine's report: the one the hub computed from
 * the same sample (GET /api/v1/machines/{key}), so a header never describes
 * another sample than the GPU cards below it; the list's until it arrives.
 */
export function summaryFor(
  list: MachineSummary | undefined,
  detail: { summary?: MachineSummary | null; report?: Report | null } | undefined,
): MachineSummary | undefined {
  const own = detail?.report ? (detail.summary ?? undefined) : undefined;
  return own && (!list || own.key === list.key) ? own : list;
}

/** A summary built from a report of the documented /api/gpu-stats route. */
export function summaryFromReport(key: string, r: Report): MachineSummary {
  const gpus = r.gpu_data ?? [];
  const temps = gpus.map((g) => g.temperature).filter((t): t is number => t != null);
  const utils = gpus.map((g) => g.utilization).filter((u): u is number => u != null);
  const si = r.system_info;
  return {
    key,
    hostname: r.hostname || key,
    online: !!r.is_online,
    last_seen: r.timestamp,
    ip_address: si?.ip_address ?? '',
    gpu_count: gpus.length,
    gpus_busy: gpus.filter((g) => (g.utilization ?? 0) > 0 || (g.processes?.length ?? 0) > 0).length,
    gpu_memory_used: gpus.reduce((a, g) => a + (g.memory_used ?? 0), 0),
    gpu_memory_total: gpus.reduce((a, g) => a + (g.memory_total ?? 0), 0),
    cpu_percent: si?.cpu_percent ?? 0,
    memory_percent: si?.memory_percent ?? 0,
    disk_percent: si?.disk_percent ?? 0,
    max_temperature: temps.length ? Math.max(...temps) : undefined,
    gpu_utilization: utils.length ? utils.reduce((a, b) => a + b, 0) / utils.length : 0,
    interval_seconds: r.interval_seconds ?? 0,
    simulated: !!r.simulated,
    can_kill: false,
  };
}

/** Sort summaries: online first, then by key. */
export function sortMachines(list: readonly MachineSummary[]): MachineSummary[] {
  return [...list].sort((a, b) => {
    if (!!a.online !== !!b.online) return a.online ? -1 : 1;
    return (a.key ?? '').localeCompare(b.key ?? '', undefined, { numeric: true });
  });
}
