// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { stepFor, toChartRows } from './history';

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
