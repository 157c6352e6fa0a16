// Live updates: follows GET /api/v1/watch (newline-delimited JSON read with
// fetch + ReadableStream) and folds the events into the machines query.
// When the stream is unavailable the hooks poll instead.
import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { STATUS_FIELDS } from '../lib/machine';
import { LineSplitter, parseWatchLine } from '../lib/ndjson';
import { useSettings } from '../state/SettingsContext';
import { apiUrl, authHeaders } from './client';
import type { FleetTotals, GetMachineResponse, ListMachinesResponse, MachineSummary, WatchResponse } from './types';

export type ConnectionState = 'connecting' | 'live' | 'polling';

const Ctx = createContext<{ state: ConnectionState }>({ state: 'polling' });

export function useConnection() {
  return useContext(Ctx);
}

/** The hub's FleetTotals of a list: GPU figures of online machines, offline ones counted apart. */
export function totalsOf(list: readonly MachineSummary[]): FleetTotals {
  const on = list.filter((m) => m.online);
  const sum = (ms: readonly MachineSummary[], f: (m: MachineSummary) => number | undefined) => ms.reduce((a, m) => a + (f(m) ?? 0), 0);
  return {
    machines: list.length,
    machines_online: on.length,
    machines_offline: list.length - on.length,
    gpus: sum(on, (m) => m.gpu_count),
    gpus_busy: sum(on, (m) => m.gpus_busy),
    gpus_free: sum(on, (m) => m.gpus_free),
    gpus_idle_held: sum(on, (m) => m.gpus_idle_held),
    gpus_offline: sum(list, (m) => (m.online ? 0 : m.gpu_count)),
    gpu_memory_used: sum(on, (m) => m.gpu_memory_used),
    gpu_memory_total: sum(on, (m) => m.gpu_memory_total),
  };
}

/**
 * A machine's full answer with the status of a newer summary: only fields
 * that do not describe the report change, so its summary and its report
 * stay of one sample (the next fetch brings both).
 */
export function withStatus(prev: GetMachineResponse, s: MachineSummary): GetMachineResponse {
  const cur = prev.summary ?? {};
  if (STATUS_FIELDS.every((k) => s[k] === undefined || s[k] === cur[k])) return prev;
  const next: MachineSummary = { ...cur };
  for (const k of STATUS_FIELDS) if (s[k] !== undefined) (next as Record<string, unknown>)[k] = s[k];
  return { ...prev, summary: next };
}

/** Whether b carries nothing new over a (summaries hold only scalars). */
function sameSummary(a: MachineSummary, b: MachineSummary): boolean {
  for (const k of Object.keys(b) as (keyof MachineSummary)[]) if (a[k] !== b[k]) return false;
  return true;
}

/**
 * Applies watch events to a machine list (pure). Machines an event leaves as
 * they were keep their object, so their cards do not re-render; the list is
 * the same object when nothing changed at all (a watch starts by sending every
 * machine as it already is).
 */
export function applyEvents(prev: ListMachinesResponse | undefined, events: readonly WatchResponse[]): ListMachinesResponse | undefined {
  if (!prev) return prev;
  const byKey = new Map((prev.machines ?? []).map((m) => [m.key ?? '', m]));
  let changed = false;
  for (const e of events) {
    const m = e.machine;
    if (!m?.key) continue;
    if (e.type === 'WATCH_EVENT_TYPE_FORGOTTEN') {
      changed = byKey.delete(m.key) || changed;
    } else if (e.type !== 'WATCH_EVENT_TYPE_HEARTBEAT') {
      const old = byKey.get(m.key);
      const next = { ...old, ...m };
      if (!old || !sameSummary(old, next)) {
        byKey.set(m.key, next);
        changed = true;
      }
    }
  }
  if (!changed) return prev;
  const machines = [...byKey.values()].sort((a, b) => (a.key ?? '').localeCompare(b.key ?? ''));
  return { machines, totals: totalsOf(machines) };
}

function flushInto(qc: QueryClient, base: string, events: WatchResponse[]) {
  qc.setQueryData<ListMachinesResponse>(['machines', base], (prev) => applyEvents(prev, events));
  const latest = new Map<string, MachineSummary>();
  for (const e of events) if (e.machine?.key && e.type !== 'WATCH_EVENT_TYPE_FORGOTTEN') latest.set(e.machine.key, e.machine);
  for (const [key, summary] of latest) {
    qc.setQueryData<GetMachineResponse>(['machine', base, key], (prev) => (prev ? withStatus(prev, summary) : prev));
  }
}

async function follow(
  url: string,
  token: string,
  signal: AbortSignal,
  onOpen: () => void,
  onEvent: (e: WatchResponse) => void,
): Promise<'ended' | 'unsupported'> {
  const res = await fetch(url, { headers: { Accept: 'application/x-ndjson, application/json', ...authHeaders(token) }, signal });
  if (!res.ok || !res.body) {
    // Drain so the connection can be reused.
    await res.text().catch(() => '');
    return res.status === 404 || res.status === 501 ? 'unsupported' : 'ended';
  }
  onOpen();
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const lines = new LineSplitter();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return 'ended';
    for (const line of lines.push(value)) {
      const ev = parseWatchLine(line);
      if (!ev) continue;
      if ('error' in ev) return 'ended';
      onEvent(ev);
    }
  }
}

export function ConnectionProvider({ children }: { children: ReactNode }) {
  const { settings } = useSettings();
  const qc = useQueryClient();
  const [state, setState] = useState<ConnectionState>(settings.live ? 'connecting' : 'polling');
  const { apiBase, apiToken, live } = settings;

  useEffect(() => {
    if (!live || typeof TextDecoderStream === 'undefined') {
      setState('polling');
      return;
    }
    const ctrl = new AbortController();
    let pending: WatchResponse[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      timer = undefined;
      const batch = pending;
      pending = [];
      if (batch.length) flushInto(qc, apiBase, batch);
    };
    const onEvent = (e: WatchResponse) => {
      if (e.type === 'WATCH_EVENT_TYPE_HEARTBEAT') return;
      pending.push(e);
      // At most one cache update a second, however big the fleet.
      timer ??= setTimeout(flush, pending.length === 1 ? 250 : 1000);
    };
    (async () => {
      let backoff = 2000;
      let everOpened = false;
      setState('connecting');
      while (!ctrl.signal.aborted) {
        let outcome: 'ended' | 'unsupported' = 'ended';
        let opened = false;
        try {
          outcome = await follow(apiUrl(apiBase, '/api/v1/watch'), apiToken, ctrl.signal, () => {
            opened = true;
            backoff = 2000;
            setState('live');
            // The stream starts with every machine's state; after an outage,
            // also refetch the list to drop machines forgotten meanwhile.
            if (everOpened) void qc.invalidateQueries({ queryKey: ['machines', apiBase] });
            everOpened = true;
          }, onEvent);
        } catch {
          outcome = 'ended';
        }
        if (ctrl.signal.aborted) return;
        setState('polling');
        const wait = outcome === 'unsupported' ? 60_000 : opened ? 1000 : backoff;
        backoff = Math.min(backoff * 2, 30_000);
        await new Promise((r) => setTimeout(r, wait + Math.random() * 500));
      }
    })();
    return () => {
      ctrl.abort();
      if (timer) clearTimeout(timer);
    };
  }, [apiBase, apiToken, live, qc]);

  return <Ctx.Provider value={{ state }}>{children}</Ctx.Provider>;
}
