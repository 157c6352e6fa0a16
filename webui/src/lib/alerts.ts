// Pure helpers of the alerts view and the browser notifications.
import type { Alert, FreeGpu } from '../api/types';

/** One alert's identity: its labels, as Alertmanager tells alerts apart. */
export function alertKey(a: Alert): string {
  const labels = a.labels ?? {};
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',');
}

export const SEVERITY_COLOR: Record<string, string> = { critical: 'red', warning: 'orange', info: 'blue' };

/**
 * The alerts that fire now and did not at the previous look, on the pinned
 * machines. A first look (previous undefined) has none: what fired when the
 * page opened is not news.
 */
export function newPinnedAlerts(previous: ReadonlySet<string> | undefined, now: readonly Alert[], pinned: readonly string[]): Alert[] {
  if (!previous) return [];
  const pins = new Set(pinned);
  return now.filter((a) => a.state === 'firing' && pins.has(a.machine ?? '') && !previous.has(alertKey(a)));
}

/** The keys of the firing alerts, for the next look. */
export function firingKeys(now: readonly Alert[]): Set<string> {
  return new Set(now.filter((a) => a.state === 'firing').map(alertKey));
}

/** One GPU's identity in the free list. */
export function gpuKey(g: FreeGpu): string {
  return `${g.machine ?? ''}/${g.index ?? 0}/${g.uuid ?? ''}`;
}

/** The GPUs free now that were not at the previous look (none on the first). */
export function newlyFree(previous: ReadonlySet<string> | undefined, now: readonly FreeGpu[]): FreeGpu[] {
  if (!previous) return [];
  return now.filter((g) => g.online !== false && !previous.has(gpuKey(g)));
}
