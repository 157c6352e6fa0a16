// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatMiB, formatPercent, formatStartTime, percentOf, secondsSince } from './format';

describe('format', () => {
  it.each([
    [0, '0 B'],
    [1536, '1.5 KiB'],
    [270157156352, '252 GiB'],
    [8589934592, '8.0 GiB'],
    [null, '–'],
    [Number.NaN, '–'],
  ])('formatBytes(%s) = %s', (v, want) => expect(formatBytes(v as number)).toBe(want));

  it.each([
    [512, '512 MiB'],
    [40321, '39.4 GiB'],
    [81920, '80.0 GiB'],
    [undefined, '–'],
  ])('formatMiB(%s) = %s', (v, want) => expect(formatMiB(v)).toBe(want));

  it('formats percentages and absent ones', () => {
    expect(formatPercent(12.345)).toBe('12.3%');
    expect(formatPercent(100, 0)).toBe('100%');
    expect(formatPercent(null)).toBe('–');
  });

  it('computes a share safely', () => {
    expect(percentOf(40960, 81920)).toBe(50);
    expect(percentOf(5, 0)).toBe(0);
    expect(percentOf(200, 100)).toBe(100);
  });

  it.each([
    [5, '5 s'],
    [180, '3 min'],
    [7500, '2 h 5 min'],
    [3 * 86400 + 4 * 3600, '3 d 4 h'],
  ])('formatDuration(%s) = %s', (v, want) => expect(formatDuration(v)).toBe(want));

  it('counts seconds since an RFC 3339 time or epoch seconds', () => {
    const now = Date.parse('2026-11-29T02:07:47Z');
    expect(secondsSince('2026-11-29T02:07:37.542655Z', now)).toBe(9);
    expect(secondsSince(now / 1000 - 30, now)).toBe(30);
    expect(secondsSince('', now)).toBeNull();
    expect(secondsSince('2026-11-29T02:08:00Z', now)).toBe(0);
  });

  it('shows a start time with the year only when it differs', () => {
    const now = Date.parse('2026-11-29T12:00:00');
    expect(formatStartTime(Date.parse('2026-11-28T09:05:00') / 1000, now)).toBe('11-28 09:05');
    expect(formatStartTime(Date.parse('2025-01-02T03:04:00') / 1000, now)).toBe('2025-01-02 03:04');
    expect(formatStartTime(0, now)).toBe('–');
  });
});
