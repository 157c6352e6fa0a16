// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { applyEvents, totalsOf, withStatus } from './connection';

describe('applyEvents', () => {
  const base = {
    machines: [
      { key: 'a', online: true, gpu_count: 2, gpus_busy: 1 },
      { key: 'b', online: true, gpu_count: 4, gpus_busy: 0 },
    ],
    totals: {},
  };

  it('updates, adds and forgets machines and recomputes totals', () => {
    const next = applyEvents(base, [
      { type: 'WATCH_EVENT_TYPE_STATUS', machine: { key: 'b', online: false } },
      { type: 'WATCH_EVENT_TYPE_SAMPLE', machine: { key: 'c', online: true, gpu_count: 1, gpus_busy: 1 } },
      { type: 'WATCH_EVENT_TYPE_FORGOTTEN', machine: { key: 'a' } },
    ]);
    expect(next?.machines?.map((m) => [m.key, m.online])).toEqual([
      ['b', false],
      ['c', true],
    ]);
    expect(next?.machines?.[0].gpu_count).toBe(4);
    // Totals are of online machines; the offline one is counted apart.
    expect(next?.totals).toMatchObject({ machines: 2, machines_online: 1, machines_offline: 1, gpus: 1, gpus_busy: 1, gpus_offline: 4 });
  });

  it('counts GPUs, free, idle-held and memory of online machines only, as the hub does', () => {
    const t = totalsOf([
      { key: 'a', online: true, gpu_count: 8, gpus_busy: 5, gpus_free: 2, gpus_idle_held: 1, gpu_memory_used: 100, gpu_memory_total: 800 },
      { key: 'b', online: true, gpu_count: 4, gpus_busy: 0, gpus_free: 4, gpu_memory_used: 0, gpu_memory_total: 400 },
      { key: 'c', online: false, gpu_count: 8, gpus_busy: 8, gpus_free: 0, gpus_idle_held: 3, gpu_memory_used: 700, gpu_memory_total: 800 },
    ]);
    expect(t).toEqual({
      machines: 3,
      machines_online: 2,
      machines_offline: 1,
      gpus: 12,
      gpus_busy: 5,
      gpus_free: 6,
      gpus_idle_held: 1,
      gpus_offline: 8,
      gpu_memory_used: 100,
      gpu_memory_total: 1200,
    });
  });

  it('gives a machine’s full answer only the status of newer events, so its summary stays its report’s', () => {
    const prev = { summary: { key: 'a', online: true, gpus_busy: 1, gpu_memory_used: 100, can_kill: true }, report: { hostname: 'a' } };
    expect(withStatus(prev, { key: 'a', online: true, gpus_busy: 2, gpu_memory_used: 262, can_kill: true })).toBe(prev);
    const off = withStatus(prev, { key: 'a', online: false, gpus_busy: 2, gpu_memory_used: 262, can_kill: false });
    expect(off.summary).toEqual({ key: 'a', online: false, gpus_busy: 1, gpu_memory_used: 100, can_kill: false });
    expect(off.report).toBe(prev.report);
  });

  it('keeps the objects of machines an event leaves unchanged', () => {
    const initial = applyEvents(base, [
      { type: 'WATCH_EVENT_TYPE_INITIAL', machine: { key: 'a', online: true, gpu_count: 2, gpus_busy: 1 } },
      { type: 'WATCH_EVENT_TYPE_INITIAL', machine: { key: 'b', online: true, gpu_count: 4, gpus_busy: 0 } },
    ]);
    expect(initial).toBe(base);
    const next = applyEvents(base, [
      { type: 'WATCH_EVENT_TYPE_INITIAL', machine: { key: 'a', online: true, gpu_count: 2, gpus_busy: 1 } },
      { type: 'WATCH_EVENT_TYPE_SAMPLE', machine: { key: 'b', online: true, gpu_count: 4, gpus_busy: 3 } },
    ]);
    expect(next).not.toBe(base);
    expect(next?.machines?.[0]).toBe(base.machines[0]);
    expect(next?.machines?.[1]).toMatchObject({ key: 'b', gpus_busy: 3 });
    expect(next?.totals).toMatchObject({ gpus_busy: 4 });
  });

  it('ignores heartbeats and keeps the same object', () => {
    expect(applyEvents(base, [{ type: 'WATCH_EVENT_TYPE_HEARTBEAT' }])).toBe(base);
    expect(applyEvents(undefined, [{ type: 'WATCH_EVENT_TYPE_SAMPLE', machine: { key: 'x' } }])).toBeUndefined();
  });
});
