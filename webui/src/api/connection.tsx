// Live updates: follows GET /api/v1/watch (newline-delimited JSON read with
// fetch + ReadableStream) and folds the events into the machines query.
// When the stream is unavailable the hooks poll instead.
import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { LineSplitter, parseWatchLine } from '../lib/ndjson';
import { useSettings } from '../state/SettingsContext';
import { apiUrl, authHeaders } from './client';
import type { FleetTotals, GetMachineResponse, ListMachinesResponse, MachineSummary, WatchResponse } from './types';

export type ConnectionState = 'connecting' | 'live' | 'polling';

const Ctx = createContext<{ state: ConnectionState }>({ state: 'polling' });

export function useConnection() {
  return useContext(Ctx);
}

export function totalsOf(list: readonly MachineSummary[]): FleetTotals {
  return {
    machines: list.length,
    machines_online: list.filter((m) => m.online).length,
    gpus: list.reduce((a, m) => a + (m.gpu_count ?? 0), 0),
    gpus_busy: list.reduce((a, m) => a + (m.gpus_busy ?? 0), 0),
    gpu_memory_used: list.reduce((a, m) => a + (m.gpu_memory_used ?? 0), 0),
    gpu_memory_total: list.reduce((a, m) => a + (m.gpu_memory_total ?? 0), 0),
  };
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
    qc.setQueryData<GetMachineResponse>(['machine', base, key], (prev) => (prev ? { ...prev, summary: { ...prev.summary, ...summary } } : prev));
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
