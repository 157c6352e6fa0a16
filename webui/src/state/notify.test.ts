import { describe, expect, it } from 'vitest';
import { DEFAULT_NOTIFY, normalizeNotify } from './notify';

describe('notification preferences', () => {
  it('are off by default and for anything unreadable', () => {
    expect(normalizeNotify(undefined)).toEqual({ ...DEFAULT_NOTIFY, freeFilter: { ...DEFAULT_NOTIFY.freeFilter, maxUtil: undefined, minFreePercent: undefined } });
    expect(normalizeNotify('x').freeGpus).toBe(false);
    expect(normalizeNotify({ freeGpus: 'yes', pinnedAlerts: 1 })).toMatchObject({ freeGpus: false, pinnedAlerts: false });
  });

  it('keep sane values only', () => {
    const p = normalizeNotify({
      freeGpus: true,
      freeFilter: { minFreeGiB: -3, maxUtil: 250, minFreePercent: '40', shared: true },
      pinned: ['a', 'a', '', 7, 'b'],
    });
    expect(p.freeFilter).toEqual({ minFreeGiB: 0, maxUtil: 100, minFreePercent: 40, shared: true, idle: false });
    expect(p.pinned).toEqual(['a', 'b']);
    expect(p.freeGpus).toBe(true);
  });
});
