import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MachineSummary } from '../../api/types';
import { summary } from '../../test/fixtures';
import { renderWithApp } from '../../test/render';
import { useKillFlow } from './useKillFlow';

function Probe({ m }: { m: MachineSummary }) {
  const kill = useKillFlow(m);
  return (
    <div>
      <span data-testid="reason">{kill?.reason ?? 'allowed'}</span>
      <button
        onClick={() =>
          kill?.onKill([
            { pid: 41234, username: 'alice', name: 'python', cmdline: 'python train.py --model llama-7b --batch-size 32 --lr 3e-4' },
            { pid: 555, username: 'bob', name: 'python', cmdline: 'python train.py --model llama-7b --batch-size 64 --lr 3e-4' },
          ])
        }
      >
        kill
      </button>
    </div>
  );
}

afterEach(() => vi.unstubAllGlobals());

describe('useKillFlow', () => {
  it.each([
    [{}, '', /admin token/],
    [{ online: false }, 'adm', /offline/],
    [{ can_kill: false }, 'adm', /--allow-kill/],
    [{ can_kill: false, source: 'legacy' }, 'adm', /POST route/],
  ])('refuses with a reason (%j, token %j)', (over, adminToken, want) => {
    renderWithApp(<Probe m={summary(over)} />, { adminToken });
    expect(screen.getByTestId('reason').textContent).toMatch(want);
  });

  it('confirms, posts with the admin token and shows each PID’s result', async () => {
    const fetchMock = vi.fn(async () =>
      new Response(
        JSON.stringify({
          status: 'error',
          message: '1 of 2 failed',
          results: [
            { pid: 41234, status: 'success', message: 'SIGTERM sent' },
            { pid: 555, status: 'error', message: 'not reported by the agent' },
          ],
        }),
      ),
    );
    vi.stubGlobal('fetch', fetchMock);
    renderWithApp(<Probe m={summary()} />, { adminToken: 'admin-secret' });
    fireEvent.click(screen.getByText('kill'));
    expect((await screen.findAllByText('Stop 2 processes on gpu-server-01?')).length).toBeGreaterThan(0);
    // Who runs what: each PID with its user and whole command line, so two runs of one script differ.
    const targets = screen.getByTestId('kill-targets');
    for (const want of ['41234', 'alice', 'python train.py --model llama-7b --batch-size 32 --lr 3e-4', '555', 'bob', 'python train.py --model llama-7b --batch-size 64 --lr 3e-4']) {
      expect(within(targets).getByText(want)).toBeInTheDocument();
    }
    fireEvent.click(screen.getByRole('button', { name: 'Stop' }));
    await waitFor(() => expect(fetchMock).toHaveBeenCalled());
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/kill-processes');
    expect(init.method).toBe('POST');
    expect(JSON.parse(init.body as string)).toEqual({ hostname: 'gpu-server-01', pids: [41234, 555] });
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer admin-secret');
    expect(await screen.findByText('not reported by the agent', {}, { timeout: 10_000 })).toBeInTheDocument();
    expect(screen.getByText('SIGTERM sent')).toBeInTheDocument();
    expect(screen.getByText('1 of 2 processes could not be signalled.')).toBeInTheDocument();
    expect(screen.getByText('signalled')).toBeInTheDocument();
    expect(screen.getByText('failed')).toBeInTheDocument();
  });
});
