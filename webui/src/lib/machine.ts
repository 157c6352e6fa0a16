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
export const STATUS_FIELDS = ['online', 'can_kill', 'hostname_conflict', 'hub', 'reconnecting'] as const;

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

/** Orders of the machine list. */
export type MachineSort = 'name' | 'free' | 'busy' | 'util' | 'memory' | 'temp' | 'cpu';
export const MACHINE_SORTS: readonly MachineSort[] = ['name', 'free', 'busy', 'util', 'memory', 'temp', 'cpu'];

/** What each order puts first: the largest value (by name: the first name). */
const sortValue: Record<Exclude<MachineSort, 'name'>, (m: MachineSummary) => number> = {
  free: (m) => m.gpus_free ?? 0,
  busy: (m) => m.gpus_busy ?? 0,
  util: (m) => m.gpu_utilization ?? 0,
  memory: (m) => (m.gpu_memory_total ? (m.gpu_memory_used ?? 0) / m.gpu_memory_total : 0),
  temp: (m) => m.max_temperature ?? -1,
  cpu: (m) => m.cpu_percent ?? 0,
};

const byName = new Intl.Collator('en', { numeric: true });

/** Sort summaries: online first, then by the order's figure (largest first), then by key. */
export function sortMachines(list: readonly MachineSummary[], by: MachineSort = 'name'): MachineSummary[] {
  const value = by === 'name' ? undefined : sortValue[by];
  return [...list].sort((a, b) => {
    if (!!a.online !== !!b.online) return a.online ? -1 : 1;
    return (value ? value(b) - value(a) : 0) || byName.compare(a.key ?? '', b.key ?? '');
  });
}
