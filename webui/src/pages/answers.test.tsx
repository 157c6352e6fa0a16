// What the pages say about free GPUs, usage and a machine's header: each
// from the hub's one answer, never worked out again in the page.
import { fireEvent, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { gpu, proc, summary } from '../test/fixtures';
import { renderAt, stubHub } from '../test/hub';

afterEach(() => vi.unstubAllGlobals());

const list = (machines: unknown[]) => ({ body: { machines, totals: { machines: machines.length, machines_online: machines.length } } });

/** A hub of one machine: listed as listed, and answering for itself with its current summary and report. */
const oneMachine = (listed: { key?: string }, current: unknown, report: unknown) =>
  stubHub((p) => {
    if (p === '/api/v1/machines') return list([listed]);
    if (p === `/api/v1/machines/${listed.key}`) return { body: { summary: current, report } };
    return { status: 404, body: { status: 'error', message: 'not found' } };
  });

describe('a machine card', () => {
  it('draws its header from the same sample as its GPU cards', async () => {
    // The list was fetched a moment before the machine: 1 busy, 100 GiB. The
    // machine's own answer (summary and report of one sample): 2 busy, 262 GiB.
    const listed = summary({ key: 'gpu-01', hostname: 'gpu-01', gpu_count: 2, gpus_busy: 1, gpu_memory_used: 102400, gpu_memory_total: 327680 });
    const now = { ...listed, gpus_busy: 2, gpu_memory_used: 268288 };
    oneMachine(listed, now, {
      hostname: 'gpu-01',
      gpu_data: [gpu({ id: 0, utilization: 87, memory_used: 134144, memory_total: 163840 }), gpu({ id: 1, utilization: 73, memory_used: 134144, memory_total: 163840 })],
      system_info: { processes: [] },
    });
    renderAt('/list');
    const card = await screen.findByTestId('machine-gpu-01', {}, { timeout: 30_000 });
    await within(card).findByTestId('gpu-1', {}, { timeout: 30_000 });
    const head = card.querySelector('.machine-gpus');
    expect(head).toHaveTextContent(/2 busy · 0 free · 262 GiB/);
    expect(head).not.toHaveTextContent('1 busy');
  });
});

describe('free GPUs', () => {
  const free = {
    gpus: [
      { machine: 'ws-7', hostname: 'ws-7', index: 0, name: 'NVIDIA GeForce RTX 4090', memory_free: 24500, memory_total: 24564, utilization: 0, process_count: 1, compute_process_count: 0, score: 0.997, online: true },
      { machine: 'dgx-b', hostname: 'dgx-b', index: 3, name: 'NVIDIA B200', memory_free: 92000, memory_total: 183359, utilization: 90, process_count: 1, compute_process_count: 1, score: 0.05, online: true },
    ],
    criteria: { max_utilization: 10, min_free_percent: 90, min_free_memory: 0, shared: true },
  };

  it('asks the hub, shows the thresholds it applied and keeps its order', async () => {
    const fetch = stubHub((p) => (p === '/api/v1/free-gpus' ? { body: free } : list([])));
    renderAt('/free-gpus?shared=1');
    await screen.findByText('NVIDIA GeForce RTX 4090', { exact: false }, { timeout: 30_000 });
    const rows = document.querySelectorAll('.free-page tbody tr.ant-table-row');
    expect(rows[0]).toHaveTextContent('ws-7');
    expect(rows[1]).toHaveTextContent('dgx-b'); // more free memory, less free
    expect(rows[0]).toHaveTextContent('1 (1 graphics)');
    expect(screen.getByTestId('max-util-value')).toHaveTextContent('10%');
    expect(screen.getByLabelText('Min free memory (%)')).toHaveValue('90');
    expect(screen.getByTestId('free-definition')).toHaveTextContent('utilisation at most 10%, at least 90% of the memory free, running jobs allowed');
    const asked = new URL(String(fetch.mock.calls.find(([u]) => String(u).includes('/free-gpus'))?.[0]), 'http://x').searchParams;
    expect(asked.get('shared')).toBe('true');
    expect(asked.has('max_utilization')).toBe(false); // the hub's default, not the page's
    expect(asked.has('min_free_percent')).toBe(false);
  });

  it('passes a changed threshold to the hub', async () => {
    const fetch = stubHub((p, q) => (p === '/api/v1/free-gpus' ? { body: { ...free, criteria: { ...free.criteria, max_utilization: Number(q.get('max_utilization') ?? 10) } } } : list([])));
    renderAt('/free-gpus?util=30');
    await screen.findByText('NVIDIA B200', { exact: false }, { timeout: 30_000 });
    expect(screen.getByTestId('max-util-value')).toHaveTextContent('30%');
    expect(fetch.mock.calls.some(([u]) => String(u).includes('max_utilization=30'))).toBe(true);
  });
});

describe('usage', () => {
  it('sums both tables, says why users’ GPU-hours exceed the machines’ and who “unknown” is', async () => {
    stubHub((p) =>
      p === '/api/v1/usage'
        ? {
            body: {
              users: [
                { name: 'alice', gpu_hours: 3, gpu_memory_gib_hours: 2 },
                { name: 'bob', gpu_hours: 1.5, gpu_memory_gib_hours: 1 },
                { name: 'unknown', gpu_hours: 0.5, gpu_memory_gib_hours: 0.5 },
              ],
              machines: [{ name: 'gpu-01', gpu_hours: 4, gpu_memory_gib_hours: 3.5 }],
              total: { name: 'total', gpu_hours: 4, gpu_memory_gib_hours: 3.5 },
              idle_held: [],
              idle_after_seconds: 1800,
            },
          }
        : list([]),
    );
    renderAt('/usage');
    const users = await screen.findByText('alice', {}, { timeout: 30_000 });
    const userCard = users.closest('.usage-users') as HTMLElement;
    const machineCard = document.querySelector('.usage-machines') as HTMLElement;
    expect(within(userCard).getByText('Sum').closest('tr')).toHaveTextContent('5.003.50');
    expect(within(machineCard).getByText('Fleet total').closest('tr')).toHaveTextContent('4.003.50');
    expect(within(machineCard).getByText('3.50', { selector: 'td' })).toBeInTheDocument(); // no more 0.00
    expect(screen.getByTestId('usage-overlap')).toHaveTextContent('The users’ GPU-hours add up to 5.00, the machines’ to 4.00');
    const unknown = within(userCard).getByText('unknown');
    fireEvent.mouseEnter(unknown);
    expect(await screen.findByText(/owner the agent cannot see/, {}, { timeout: 10_000 })).toBeInTheDocument();
    expect(screen.getByText('No GPU has been held idle for 30 min or longer.')).toBeInTheDocument();
  });
});

describe('idle GPUs', () => {
  it('the card says what Usage says', async () => {
    const m = summary({ key: 'gpu-01', hostname: 'gpu-01', last_seen: '2026-11-29T02:42:00Z', gpus_idle_held: 1 });
    const held = gpu({ id: 0, utilization: 0, processes: [proc({ pid: 9, username: 'bob' })], idle_since: '2026-11-29T02:00:00Z', idle_held: true });
    stubHub((p) => {
      if (p === '/api/v1/machines') return list([m]);
      if (p === '/api/v1/machines/gpu-01') return { body: { summary: m, report: { hostname: 'gpu-01', gpu_data: [held], system_info: {} } } };
      if (p === '/api/v1/usage') {
        return {
          body: {
            users: [],
            machines: [],
            idle_held: [{ machine: 'gpu-01', hostname: 'gpu-01', index: 0, name: held.name, memory_used: held.memory_used, since: held.idle_since, idle_seconds: 2520, users: ['bob'] }],
            idle_after_seconds: 1800,
          },
        };
      }
      return { status: 404, body: { status: 'error', message: 'not found' } };
    });
    const { unmount } = renderAt('/window/gpu-01');
    expect(await screen.findByText('idle, memory held · 42 min', {}, { timeout: 30_000 })).toBeInTheDocument();
    unmount();
    renderAt('/usage');
    const row = (await screen.findByText('42 min', {}, { timeout: 30_000 })).closest('tr');
    expect(row).toHaveTextContent('gpu-01');
    expect(row).toHaveTextContent('bob');
  });
});

describe('a machine running more processes than a report takes', () => {
  it('says its process list is cut, and how', async () => {
    const m = summary({ key: 'login-01', hostname: 'login-01', gpu_count: 0 });
    oneMachine(m, m, {
      hostname: 'login-01',
      gpu_data: [],
      system_info: { processes: [proc({ pid: 11, name: 'java' }), proc({ pid: 12, name: 'bash' })] },
      collectors: [{ name: 'process', state: 'COLLECTOR_STATE_OK', message: '2 of 6210 processes listed (the hub takes at most 2 processes per report): those using a GPU and the busiest others' }],
    });
    renderAt('/window/login-01?tab=processes');
    const note = await screen.findByTestId('proc-cut', {}, { timeout: 30_000 });
    expect(note).toHaveTextContent('This machine runs 6210 processes and its reports list 2');
  });
});
