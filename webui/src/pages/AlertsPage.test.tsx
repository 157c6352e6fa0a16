import { act, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Alert } from '../api/types';
import { summary } from '../test/fixtures';
import { renderAt, stubHub } from '../test/hub';
import { NOTIFY_KEY } from '../state/notify';

afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
});

const hot: Alert = {
  name: 'GpuTooHot',
  state: 'firing',
  severity: 'warning',
  machine: 'gpu-01',
  hostname: 'gpu-01',
  gpu: 3,
  active_at: new Date(Date.now() - 300_000).toISOString(),
  labels: { alertname: 'GpuTooHot', machine: 'gpu-01', gpu: '3', severity: 'warning' },
  annotations: { summary: 'GPU 3 on gpu-01 is at 91 °C', description: 'for 2 minutes' },
};
const pending: Alert = { ...hot, name: 'DiskAlmostFull', state: 'pending', gpu: null, labels: { alertname: 'DiskAlmostFull', machine: 'gpu-01' }, annotations: {} };

function hub(alerts: () => Alert[], rules = 7) {
  return stubHub((p, q) => {
    if (p === '/api/v1/machines') return { body: { machines: [summary({ key: 'gpu-01', hostname: 'gpu-01' }), summary({ key: 'gpu-02', hostname: 'gpu-02' })], totals: {} } };
    if (p === '/api/v1/active-alerts') return { body: { alerts: alerts().filter((a) => q.get('include_pending') === 'true' || a.state === 'firing'), rules } };
    if (p === '/api/v1/free-gpus') return { body: { gpus: [], criteria: {} } };
    return { status: 404, body: { status: 'error', message: 'not found' } };
  });
}

describe('the alerts view', () => {
  it('counts firing alerts in the bell and lists them with machine, GPU and since when', async () => {
    hub(() => [hot, pending]);
    renderAt('/alerts');
    const bell = await screen.findByTestId('alert-bell', {}, { timeout: 30_000 });
    await waitFor(() => expect(bell).toHaveAttribute('data-count', '1'), { timeout: 30_000 });
    expect(bell).toHaveAccessibleName('Alerts: 1 firing');
    expect(await screen.findByText('GPU 3 on gpu-01 is at 91 °C', {}, { timeout: 30_000 })).toBeInTheDocument();
    expect(screen.getByTestId('alert-machine-gpu-01')).toHaveAttribute('href', '/window/gpu-01');
    expect(screen.getByText('GPU 3')).toBeInTheDocument();
    expect(screen.getByText('5 min')).toBeInTheDocument();
    expect(screen.getByTestId('alerts-rules')).toHaveTextContent('7 alerting rules');
    expect(screen.queryByText('DiskAlmostFull')).toBeNull();
    fireEvent.click(screen.getByRole('switch', { name: 'Also pending' }));
    expect(await screen.findByText('DiskAlmostFull', {}, { timeout: 30_000 })).toBeInTheDocument();
  });

  it('says when the hub evaluates no rules, in Chinese too', async () => {
    hub(() => [], 0);
    renderAt('/alerts', { language: 'zh' });
    expect(await screen.findByText(/hub 没有计算任何告警规则/, {}, { timeout: 30_000 })).toBeInTheDocument();
    expect(screen.getByRole('heading', { name: '告警' })).toBeInTheDocument();
  });

  it('asks the browser for notifications only when told to, and says when they are blocked', async () => {
    const requestPermission = vi.fn(async () => 'denied');
    vi.stubGlobal('Notification', Object.assign(vi.fn(), { permission: 'default', requestPermission }));
    hub(() => []);
    renderAt('/alerts');
    const line = await screen.findByTestId('notify-permission', {}, { timeout: 30_000 });
    expect(line).toHaveAttribute('data-state', 'default');
    expect(screen.getByTestId('notify-free')).toBeDisabled();
    expect(requestPermission).not.toHaveBeenCalled();
    fireEvent.click(screen.getByTestId('notify-allow'));
    await waitFor(() => expect(line).toHaveAttribute('data-state', 'denied'));
    expect(line).toHaveTextContent('blocked');
    expect(screen.getByTestId('notify-pinned')).toBeDisabled();
  });
});

describe('browser notifications', () => {
  it('tell of a new alert on a pinned machine, not of those firing before, nor of other machines', async () => {
    const shown: string[] = [];
    class FakeNotification {
      static permission = 'granted';
      onclick: (() => void) | null = null;
      constructor(title: string) {
        shown.push(title);
      }
      close() {}
    }
    vi.stubGlobal('Notification', FakeNotification);
    let now: Alert[] = [hot];
    hub(() => now);
    renderAt('/list', { refreshSeconds: 1 });
    localStorage.setItem(NOTIFY_KEY, JSON.stringify({ pinnedAlerts: true, pinned: ['gpu-01'] }));
    act(() => window.dispatchEvent(new StorageEvent('storage', { key: NOTIFY_KEY })));
    await waitFor(() => expect(screen.getByTestId('alert-bell')).toHaveAttribute('data-count', '1'), { timeout: 30_000 });
    await new Promise((r) => setTimeout(r, 2500)); // two more looks: still nothing new
    expect(shown).toEqual([]);
    const offline: Alert = { ...hot, name: 'MachineOffline', gpu: null, severity: 'critical', labels: { alertname: 'MachineOffline', machine: 'gpu-01' }, annotations: { summary: 'gpu-01 is offline' } };
    const elsewhere: Alert = { ...offline, machine: 'gpu-02', labels: { alertname: 'MachineOffline', machine: 'gpu-02' } };
    now = [hot, offline, elsewhere];
    await waitFor(() => expect(shown).toEqual(['critical: gpu-01 is offline']), { timeout: 30_000 });
  });
});
