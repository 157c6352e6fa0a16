// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { idleSeconds, machineState, offlineAfterSeconds, sortMachines, summaryFor } from './machine';

describe('machine', () => {
  it('uses max(3 × interval, 10 s) as the offline threshold', () => {
    expect(offlineAfterSeconds(2)).toBe(10);
    expect(offlineAfterSeconds(5)).toBe(15);
    expect(offlineAfterSeconds(0)).toBe(10);
  });

  it('takes the hub’s word for offline and flags stale online machines', () => {
    const now = Date.parse('2026-11-29T02:10:00Z');
    expect(machineState({ online: false, last_seen: '2026-11-29T02:09:59Z' }, now)).toBe('offline');
    expect(machineState({ online: true, last_seen: '2026-11-29T02:09:58Z', interval_seconds: 2 }, now)).toBe('online');
    expect(machineState({ online: true, last_seen: '2026-11-29T02:09:00Z', interval_seconds: 2 }, now)).toBe('stale');
    expect(machineState({ online: true }, now)).toBe('online');
  });

  it('takes how long a GPU has been idle from the hub, in the hub’s clock', () => {
    expect(idleSeconds({ idle_since: '2026-11-29T02:00:00Z' }, '2026-11-29T02:42:30Z')).toBe(2550);
    expect(idleSeconds({ idle_since: undefined }, '2026-11-29T02:42:30Z')).toBeNull();
    expect(idleSeconds({ idle_since: null as never }, '2026-11-29T02:42:30Z')).toBeNull();
    expect(idleSeconds({ idle_since: '2026-11-29T02:00:00Z' }, undefined)).toBe(0);
    // A GPU at 0 % holding memory is not idle until the hub says so.
    expect(idleSeconds({}, '2026-11-29T02:42:30Z')).toBeNull();
  });

  it('shows the summary that came with the report, the list’s until then', () => {
    const list = { key: 'a', gpus_busy: 1, gpu_memory_used: 102400 };
    const detail = { summary: { key: 'a', gpus_busy: 2, gpu_memory_used: 268288 }, report: { hostname: 'a' } };
    expect(summaryFor(list, detail)).toBe(detail.summary);
    expect(summaryFor(list, undefined)).toBe(list);
    expect(summaryFor(list, { summary: detail.summary })).toBe(list);
    // Another machine's answer (kept on screen while this one's loads) is not this one's.
    expect(summaryFor(list, { summary: { key: 'b', gpus_busy: 8 }, report: { hostname: 'b' } })).toBe(list);
  });

  it('lists online machines first, then by name with numbers in order', () => {
    const list = sortMachines([
      { key: 'gpu-10', online: true },
      { key: 'gpu-2', online: true },
      { key: 'gpu-1', online: false },
    ]);
    expect(list.map((m) => m.key)).toEqual(['gpu-2', 'gpu-10', 'gpu-1']);
  });

  it('sorts by a figure, largest first, offline machines last whatever their figure', () => {
    const fleet = [
      { key: 'a', online: true, gpus_free: 1, max_temperature: 50, gpu_memory_used: 10, gpu_memory_total: 100 },
      { key: 'b', online: true, gpus_free: 7, max_temperature: 81, gpu_memory_used: 90, gpu_memory_total: 100 },
      { key: 'c', online: false, gpus_free: 8, max_temperature: 95, gpu_memory_used: 100, gpu_memory_total: 100 },
      { key: 'd', online: true, gpus_free: 7, gpu_memory_used: 0, gpu_memory_total: 0 },
    ];
    expect(sortMachines(fleet, 'free').map((m) => m.key)).toEqual(['b', 'd', 'a', 'c']);
    expect(sortMachines(fleet, 'temp').map((m) => m.key)).toEqual(['b', 'a', 'd', 'c']);
    expect(sortMachines(fleet, 'memory').map((m) => m.key)).toEqual(['b', 'a', 'd', 'c']);
  });
});
