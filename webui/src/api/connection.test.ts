// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { applyEvents } from './connection';

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
    expect(next?.totals).toMatchObject({ machines: 2, machines_online: 1, gpus: 5, gpus_busy: 1 });
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
