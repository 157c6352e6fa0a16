import { describe, expect, it } from 'vitest';
import type { Alert, FreeGpu } from '../api/types';
import { firingCount } from '../api/alerts';
import { alertKey, firingKeys, newlyFree, newPinnedAlerts } from './alerts';

const alert = (name: string, machine: string, state = 'firing', gpu?: string): Alert => ({
  name,
  state,
  machine,
  labels: { alertname: name, machine, ...(gpu ? { gpu } : {}) },
});

describe('alerts', () => {
  it('tells alerts apart by their labels, whatever their order', () => {
    const a: Alert = { labels: { b: '1', a: '2' } };
    const b: Alert = { labels: { a: '2', b: '1' } };
    expect(alertKey(a)).toBe(alertKey(b));
    expect(alertKey(alert('X', 'm', 'firing', '1'))).not.toBe(alertKey(alert('X', 'm', 'firing', '2')));
  });

  it('counts firing alerts only', () => {
    expect(firingCount([alert('A', 'm'), alert('B', 'm', 'pending')])).toBe(1);
    expect(firingCount(undefined)).toBe(0);
  });

  it('notifies new firing alerts of pinned machines only, never on the first look', () => {
    const now = [alert('Old', 'pinned'), alert('New', 'pinned'), alert('New', 'other'), alert('Soon', 'pinned', 'pending')];
    expect(newPinnedAlerts(undefined, now, ['pinned'])).toEqual([]);
    const before = firingKeys([alert('Old', 'pinned')]);
    expect(newPinnedAlerts(before, now, ['pinned']).map((a) => a.name)).toEqual(['New']);
    expect(newPinnedAlerts(before, now, [])).toEqual([]);
  });

  it('finds GPUs that became free, not those free before or offline', () => {
    const g = (machine: string, index: number, online = true): FreeGpu => ({ machine, index, uuid: `GPU-${machine}-${index}`, online });
    const first = [g('a', 0)];
    expect(newlyFree(undefined, first)).toEqual([]);
    const seen = new Set(first.map((x) => `${x.machine}/${x.index}/${x.uuid}`));
    expect(newlyFree(seen, [g('a', 0), g('a', 1), g('b', 0, false)]).map((x) => `${x.machine}/${x.index}`)).toEqual(['a/1']);
  });
});
