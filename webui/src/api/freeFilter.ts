// The free GPUs by a notification filter: only the notifier asks for them.
import { useQuery } from '@tanstack/react-query';
import type { FreeFilter } from '../state/notify';
import { useSettings } from '../state/SettingsContext';
import { apiFetch } from './client';
import { useClientConfig } from './hooks';
import type { ListFreeGpusResponse } from './types';

/** The free GPUs by a notification filter (GET /api/v1/free-gpus), while enabled. */
export function useFreeGpusFor(filter: FreeFilter, enabled: boolean) {
  const cfg = useClientConfig();
  const { settings } = useSettings();
  const query = freeQuery(filter);
  return useQuery({
    queryKey: ['notify-free-gpus', cfg.apiBase, query] as const,
    queryFn: ({ signal }) => apiFetch<ListFreeGpusResponse>(cfg, '/api/v1/free-gpus', { signal, query }),
    enabled,
    refetchInterval: settings.refreshSeconds * 1000,
  });
}

/** The hub's free-GPU criteria of a filter; a threshold left unset is the hub's default. */
export function freeQuery(f: FreeFilter): Record<string, number | boolean | undefined> {
  return {
    min_free_memory: f.minFreeGiB > 0 ? Math.round(f.minFreeGiB * 1024) : undefined,
    max_utilization: f.maxUtil,
    min_free_percent: f.minFreePercent,
    shared: f.shared || undefined,
    idle: f.idle || undefined,
  };
}
