import { screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { gpu, summary, XSS, proc } from '../test/fixtures';
import { renderAt, stubHub } from '../test/hub';

afterEach(() => vi.unstubAllGlobals());

describe('the page against a hub', () => {
  it('lists machines with totals, greys the offline one and shows GPUs of the open one', async () => {
    const a = summary({ key: 'gpu-01', hostname: 'gpu-01' });
    const b = summary({ key: 'gpu-02', hostname: 'gpu-02', online: false });
    stubHub((p) => {
      if (p === '/api/v1/machines') return { body: { machines: [a, b], totals: { machines: 2, machines_online: 1, machines_offline: 1, gpus: 2, gpus_busy: 1, gpus_offline: 2 } } };
      if (p.startsWith('/api/v1/machines/')) {
        const key = decodeURIComponent(p.split('/').pop() ?? '');
        return {
          body: {
            summary: key === 'gpu-01' ? a : b,
            report: { hostname: key, gpu_data: [gpu({ processes: [proc({ pid: 4242, cmdline: `python ${XSS}` })] })], system_info: { processes: [] } },
          },
        };
      }
      return { status: 404, body: { status: 'error', message: 'not found' } };
    });
    const { container } = renderAt('/list');
    expect(await screen.findByTestId('machine-gpu-01', {}, { timeout: 30_000 })).toBeInTheDocument();
    expect(screen.getByText('1 machine online')).toBeInTheDocument();
    expect(screen.getByTestId('totals-offline')).toHaveTextContent('1 offline');
    expect(screen.getByText('1/2 GPUs busy')).toBeInTheDocument();
    expect(screen.getByTestId('machine-gpu-02').className).toMatch(/machine-offline/);
    expect((await screen.findAllByText(`python ${XSS}`, {}, { timeout: 30_000 })).length).toBeGreaterThan(0);
    expect(container.querySelector('img[src="x"]')).toBeNull();
  });

  it('says the hub is degraded while its /readyz answers 503, and names the machines\' hubs', async () => {
    const a = summary({ key: 'gpu-01', hostname: 'gpu-01', hub: 'hub-a' });
    const b = summary({ key: 'gpu-02', hostname: 'gpu-02', hub: 'hub-b', online: false, reconnecting: true });
    stubHub((p) => {
      if (p === '/readyz') return { status: 503, body: { status: 'error', message: 'not ready: cluster lab: NATS unreachable or bucket not ready; serving this hub\'s machines only' } };
      if (p === '/api/v1/machines') return { body: { machines: [a, b], totals: { machines: 2, machines_online: 1, machines_offline: 1 } } };
      return { status: 404, body: { status: 'error', message: 'not found' } };
    });
    renderAt('/list');
    expect(await screen.findByTestId('degraded-banner', {}, { timeout: 30_000 })).toHaveTextContent(
      "This hub is degraded: cluster lab: NATS unreachable or bucket not ready; serving this hub's machines only",
    );
    expect(await screen.findByText('hub hub-a')).toBeInTheDocument();
    expect(screen.getByText('Reconnecting')).toBeInTheDocument();
  });

  it('tells how to start an agent when no machine has reported', async () => {
    stubHub(() => ({ body: { machines: [], totals: {} } }));
    renderAt('/list');
    expect(await screen.findByText('No machines yet', {}, { timeout: 30_000 })).toBeInTheDocument();
    expect(screen.getByText(/gpumon-agent --hub .*:7865 --token-file \/etc\/gpumon\/agent-token/)).toBeInTheDocument();
  });

  it('asks for the API token when the hub answers 401', async () => {
    stubHub(() => ({ status: 401, body: { status: 'error', message: 'missing or invalid API token' } }));
    renderAt('/list');
    expect(await screen.findByText('The hub asks for an API token', {}, { timeout: 30_000 })).toBeInTheDocument();
  });

  it('says so when the hub is unreachable', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))));
    renderAt('/window');
    expect(await screen.findByText('Cannot reach the hub', {}, { timeout: 30_000 })).toBeInTheDocument();
  });
});
