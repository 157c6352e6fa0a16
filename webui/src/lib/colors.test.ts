// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { hostColor, temperatureLevel, usageLevel } from './colors';

describe('colors', () => {
  it('gives a hostname the same colour every time and different hosts different colours', () => {
    expect(hostColor('gpu-server-01')).toBe(hostColor('gpu-server-01'));
    const many = new Set(['a', 'b', 'gpu-01', 'gpu-02', 'gpu-03', 'dgx'].map(hostColor));
    expect(many.size).toBe(6);
    expect(hostColor('x')).toMatch(/^hsl\(\d+, \d+%, \d+%\)$/);
  });

  it('keeps identity colours away from the status colours', () => {
    // Status: red 0–20, orange 20–45, yellow 45–65, green 80–160; pink 300–360 reads as red.
    for (let i = 0; i < 2000; i++) {
      const [, hue, sat] = /^hsl\((\d+), (\d+)%, (\d+)%\)$/.exec(hostColor(`lab-${i}.example`))!.map(Number);
      expect(hue).toBeGreaterThanOrEqual(180);
      expect(hue).toBeLessThanOrEqual(285);
      expect(sat).toBeLessThanOrEqual(55);
    }
  });

  it.each([
    [45, 'ok'],
    [69, 'ok'],
    [70, 'warn'],
    [82, 'warn'],
    [83, 'hot'],
    [null, 'unknown'],
  ])('temperature %s is %s', (t, want) => expect(temperatureLevel(t)).toBe(want));

  it.each([
    [10, 'ok'],
    [75, 'warn'],
    [95, 'hot'],
    [undefined, 'unknown'],
  ])('usage %s is %s', (p, want) => expect(usageLevel(p)).toBe(want));
});
