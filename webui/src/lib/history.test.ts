// @vitest-environment node
import { describe, expect, it } from 'vitest';
import dayjs from 'dayjs';
import { edgeRoom, formatValue, stepFor, timeTicks, toChartRows } from './history';

describe('history', () => {
  it('merges series by time with one column per series', () => {
    const { rows, names } = toChartRows([
      { metric: 'gpu_utilization', labels: { gpu: '0' }, points: [{ time: 10, value: 1 }, { time: 20, value: 2 }] },
      { metric: 'gpu_utilization', labels: { gpu: '1' }, points: [{ time: 20, value: 5 }] },
    ]);
    expect(names).toEqual(['GPU 0', 'GPU 1']);
    expect(rows).toEqual([
      { time: 10000, 'GPU 0': 1 },
      { time: 20000, 'GPU 0': 2, 'GPU 1': 5 },
    ]);
  });
  it('names per-user series by user, with the GPU when several GPUs are charted', () => {
    const sm = (gpu: string, user: string) => ({ metric: 'gpumon_user_gpu_sm_utilization_percent', labels: { gpu, user }, points: [{ time: 10, value: 40 }] });
    expect(toChartRows([sm('0', 'alice'), sm('0', 'bob')]).names).toEqual(['alice', 'bob']);
    expect(toChartRows([sm('0', 'alice'), sm('1', 'alice')]).names).toEqual(['GPU 0 · alice', 'GPU 1 · alice']);
  });
  it('handles no series', () => {
    expect(toChartRows(undefined)).toEqual({ rows: [], names: [] });
  });
  it('picks a step', () => {
    expect(stepFor(3600)).toBe('15s');
    expect(stepFor(60)).toBe('10s');
  });
});

describe('chart axes and values', () => {
  it('formats values with their unit and a sensible precision', () => {
    expect(formatValue('percent', 86.86666666666666)).toBe('87%');
    expect(formatValue('percent', 3.25)).toBe('3.3%');
    expect(formatValue('percent', 0)).toBe('0%');
    expect(formatValue('mib', 40321)).toBe('39.4 GiB');
    expect(formatValue('celsius', 66.6)).toBe('67°C');
    expect(formatValue('watt', 412.49)).toBe('412 W');
    expect(formatValue('mhz', 1980)).toBe('1,980 MHz');
    expect(formatValue('load', 1.23456)).toBe('1.23');
    expect(formatValue('count', 3)).toBe('3');
    expect(formatValue('percent', null)).toBe('–');
  });

  it('ticks on round times, never more than asked, with labels that tell them apart', () => {
    const at = (s: string) => new Date(s).getTime();
    for (const [start, end, max] of [
      ['2026-11-29T02:40:18', '2026-11-29T02:41:33', 6], // 75 s: the "02:40:1802:40:33" case
      ['2026-11-29T02:00:07', '2026-11-29T03:00:07', 6],
      ['2026-11-29T02:00:07', '2026-11-29T03:00:07', 3], // a phone's chart
      ['2026-11-28T03:00:00', '2026-11-29T03:00:00', 8],
      ['2026-11-22T03:00:00', '2026-11-29T03:00:00', 8],
    ] as const) {
      const { ticks, format } = timeTicks(at(start), at(end), max);
      expect(ticks.length).toBeGreaterThanOrEqual(2);
      expect(ticks.length).toBeLessThanOrEqual(max);
      expect(ticks[0]).toBeGreaterThanOrEqual(at(start));
      expect(ticks[ticks.length - 1]).toBeLessThanOrEqual(at(end));
      const labels = ticks.map((x) => dayjs(x).format(format));
      expect(new Set(labels).size).toBe(labels.length); // no label repeats
      const gaps = ticks.slice(1).map((x, i) => x - ticks[i]);
      expect(new Set(gaps).size).toBe(1); // one spacing
    }
    const minute = timeTicks(at('2026-11-29T02:40:18'), at('2026-11-29T02:41:33'), 6);
    expect(minute.format).toBe('HH:mm:ss');
    expect(minute.ticks.map((x) => dayjs(x).format('ss'))).toEqual(['30', '45', '00', '15', '30']);
    expect(timeTicks(at('2026-11-29T02:00:07'), at('2026-11-29T03:00:07'), 6).format).toBe('HH:mm');
    expect(timeTicks(at('2026-11-22T03:00:00'), at('2026-11-29T03:00:00'), 8).format).toBe('MM-DD');
  });

  it('leaves room right of the plot for half a label on a tick at the last sample', () => {
    const at = (s: string) => new Date(s).getTime();
    // A tick can fall on the last sample: 02:41:30 of a minute ending there.
    const { ticks, format } = timeTicks(at('2026-11-29T02:40:18'), at('2026-11-29T02:41:30'), 6);
    expect(ticks[ticks.length - 1]).toBe(at('2026-11-29T02:41:30'));
    // Half of "HH:mm:ss" at 9.5 px a character, more than the 24 px that cut it off.
    expect(edgeRoom(format)).toBeGreaterThanOrEqual((8 * 9.5) / 2);
    expect(edgeRoom('MM-DD HH:mm')).toBeGreaterThanOrEqual((11 * 9.5) / 2);
    expect(edgeRoom('HH:mm')).toBe(26);
  });
});
