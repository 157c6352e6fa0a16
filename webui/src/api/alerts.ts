// The alerts of the hub's rules (GET /api/v1/active-alerts).
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useSettings } from '../state/SettingsContext';
import { ApiError, apiFetch } from './client';
import { useClientConfig } from './hooks';
import type { Alert, ListAlertsResponse } from './types';

export const alertKeys = {
  active: (base: string, pending: boolean) => ['active-alerts', base, pending] as const,
};

/** The alerts firing now (and pending ones when asked), refreshed at the settings' interval. */
export function useActiveAlerts(pending = false) {
  const cfg = useClientConfig();
  const { settings } = useSettings();
  return useQuery({
    queryKey: alertKeys.active(cfg.apiBase, pending),
    queryFn: ({ signal }) =>
      apiFetch<ListAlertsResponse>(cfg, '/api/v1/active-alerts', { signal, query: { include_pending: pending || undefined } }),
    refetchInterval: settings.refreshSeconds * 1000,
    placeholderData: keepPreviousData,
    retry: (n, err) => !(err instanceof ApiError && [401, 403, 404, 501].includes(err.status)) && n < 2,
  });
}


/** How many of the alerts fire (the bell counts them). */
export function firingCount(alerts: readonly Alert[] | undefined): number {
  return (alerts ?? []).filter((a) => a.state === 'firing').length;
}
