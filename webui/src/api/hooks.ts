// Query hooks: every piece of server state the pages use.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo } from 'react';
import { useSettings } from '../state/SettingsContext';
import { ApiError, apiFetch, type ClientConfig } from './client';
import type {
  GetGpuStatsResponse,
  GetMachineResponse,
  KillProcessesResponse,
  ListFreeGpusResponse,
  ListGpusResponse,
  ListMachinesResponse,
  QueryHistoryResponse,
  GetUsageResponse,
} from './types';
import { useConnection } from './connection';
import { MACHINES_PATH } from './early';

export const keys = {
  machines: (base: string) => ['machines', base] as const,
  machine: (base: string, key: string) => ['machine', base, key] as const,
  gpuStats: (base: string) => ['gpu-stats', base] as const,
  free: (base: string, p: FreeGpuParams) => ['free-gpus', base, p] as const,
  gpus: (base: string, offline: boolean) => ['gpus', base, offline] as const,
  history: (base: string, p: HistoryParams) => ['history', base, p] as const,
  usage: (base: string, days: number) => ['usage', base, days] as const,
};

export function useClientConfig(): ClientConfig {
  const { settings } = useSettings();
  return useMemo(() => ({ apiBase: settings.apiBase, apiToken: settings.apiToken }), [settings.apiBase, settings.apiToken]);
}

/** Polling interval in ms: none while the watch stream delivers, else the setting. */
function usePollInterval(): number | false {
  const { settings } = useSettings();
  const { state } = useConnection();
  return state === 'live' ? 30_000 : settings.refreshSeconds * 1000;
}

const retry = (count: number, err: unknown) => {
  const status = err instanceof ApiError ? err.status : -1;
  if (status === 401 || status === 403 || status === 404 || status === 501) return false;
  return count < 2;
};

export function useMachines() {
  const cfg = useClientConfig();
  const interval = usePollInterval();
  return useQuery({
    queryKey: keys.machines(cfg.apiBase),
    queryFn: ({ signal }) => apiFetch<ListMachinesResponse>(cfg, MACHINES_PATH, { signal }),
    refetchInterval: interval,
    retry,
  });
}

/** One machine in full. Reports change every sample, so it refreshes at the interval even when live. */
export function useMachine(key: string | undefined, enabled = true) {
  const cfg = useClientConfig();
  const { settings } = useSettings();
  return useQuery({
    queryKey: keys.machine(cfg.apiBase, key ?? ''),
    queryFn: ({ signal }) => apiFetch<GetMachineResponse>(cfg, `/api/v1/machines/${encodeURIComponent(key ?? '')}`, { signal }),
    enabled: enabled && !!key,
    refetchInterval: settings.refreshSeconds * 1000,
    placeholderData: keepPreviousData,
    retry,
  });
}

/** Every machine's full report (documented route), for the fleet-wide process search. */
export function useGpuStats(enabled: boolean) {
  const cfg = useClientConfig();
  const { settings } = useSettings();
  return useQuery({
    queryKey: keys.gpuStats(cfg.apiBase),
    queryFn: ({ signal }) => apiFetch<GetGpuStatsResponse>(cfg, '/api/gpu-stats', { signal }),
    enabled,
    refetchInterval: Math.max(settings.refreshSeconds, 10) * 1000,
    retry,
  });
}

/** What counts as free; an absent field leaves the hub's default (ListFreeGpusRequest). */
export interface FreeGpuParams {
  min_free_memory?: number;
  max_utilization?: number;
  min_free_percent?: number;
  shared?: boolean;
  idle?: boolean;
  include_offline?: boolean;
}

export function useFreeGpus(p: FreeGpuParams) {
  const cfg = useClientConfig();
  const { settings } = useSettings();
  return useQuery({
    queryKey: keys.free(cfg.apiBase, p),
    queryFn: ({ signal }) =>
      apiFetch<ListFreeGpusResponse>(cfg, '/api/v1/free-gpus', { signal, query: { ...p } }),
    refetchInterval: settings.refreshSeconds * 1000,
    placeholderData: keepPreviousData,
    retry,
  });
}

/**
 * Every GPU of the fleet, one compact row each (GET /api/v1/gpus), for the
 * overview: refreshed at the interval, at most every 5 s (a thousand
 * machines' GPUs are a few MB).
 */
export function useGpus(includeOffline: boolean) {
  const cfg = useClientConfig();
  const { settings } = useSettings();
  return useQuery({
    queryKey: keys.gpus(cfg.apiBase, includeOffline),
    queryFn: ({ signal }) => apiFetch<ListGpusResponse>(cfg, '/api/v1/gpus', { signal, query: { include_offline: includeOffline || undefined } }),
    refetchInterval: Math.max(settings.refreshSeconds, 5) * 1000,
    placeholderData: keepPreviousData,
    retry,
  });
}

export interface HistoryParams {
  metric: string;
  machine?: string;
  gpu?: number;
  rangeSeconds: number;
  step: string;
}

export function useHistory(p: HistoryParams, enabled = true) {
  const cfg = useClientConfig();
  return useQuery({
    queryKey: keys.history(cfg.apiBase, p),
    queryFn: ({ signal }) => {
      const end = new Date();
      const start = new Date(end.getTime() - p.rangeSeconds * 1000);
      return apiFetch<QueryHistoryResponse>(cfg, '/api/v1/history', {
        signal,
        query: { metric: p.metric, machine: p.machine, gpu: p.gpu, start: start.toISOString(), end: end.toISOString(), step: p.step },
      });
    },
    enabled,
    refetchInterval: 60_000,
    placeholderData: keepPreviousData,
    retry,
  });
}

export function useKillProcesses() {
  const cfg = useClientConfig();
  const { settings } = useSettings();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (req: { hostname: string; pids: number[] }) =>
      apiFetch<KillProcessesResponse>(cfg, '/api/kill-processes', {
        method: 'POST',
        body: { hostname: req.hostname, pids: req.pids },
        token: settings.adminToken,
      }),
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: ['machine'] });
    },
  });
}

/** DELETE /api/v1/machines/{key} with the admin token: an offline machine leaves the fleet. */
export function useForgetMachine() {
  const cfg = useClientConfig();
  const { settings } = useSettings();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (key: string) =>
      apiFetch<Record<string, never>>(cfg, `/api/v1/machines/${encodeURIComponent(key)}`, { method: 'DELETE', token: settings.adminToken }),
    onSuccess: (_, key) => {
      qc.setQueryData<ListMachinesResponse>(keys.machines(cfg.apiBase), (prev) =>
        prev ? { ...prev, machines: (prev.machines ?? []).filter((m) => m.key !== key) } : prev,
      );
      qc.removeQueries({ queryKey: keys.machine(cfg.apiBase, key) });
      void qc.invalidateQueries({ queryKey: keys.machines(cfg.apiBase) });
    },
  });
}

/** GPU-hours per user and machine over the last `days`, and the GPUs held but idle now. */
export function useUsage(days: number) {
  const cfg = useClientConfig();
  return useQuery({
    queryKey: keys.usage(cfg.apiBase, days),
    queryFn: ({ signal }) => {
      const end = new Date();
      const start = new Date(end.getTime() - days * 86400_000);
      return apiFetch<GetUsageResponse>(cfg, '/api/v1/usage', { signal, query: { start: start.toISOString(), end: end.toISOString() } });
    },
    refetchInterval: 60_000,
    placeholderData: keepPreviousData,
    retry,
  });
}

/**
 * Why the hub is not ready (GET /readyz answers 503: its history store
 * fails, or, in a cluster, NATS is away and it serves only the machines it
 * holds); null while it is ready or cannot be asked.
 */
export function useDegraded(): string | null {
  const cfg = useClientConfig();
  const q = useQuery({
    queryKey: ['readyz', cfg.apiBase],
    queryFn: async ({ signal }) => {
      try {
        await apiFetch<unknown>(cfg, '/readyz', { signal });
        return null;
      } catch (err) {
        if (err instanceof ApiError && err.status === 503) return err.message.replace(/^not ready: /, '');
        return null;
      }
    },
    refetchInterval: 10_000,
    retry: false,
  });
  return q.data ?? null;
}
