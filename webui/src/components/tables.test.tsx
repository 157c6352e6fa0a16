import { fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { renderWithApp } from '../test/render';
import { ContainerTable } from './ContainerTable';
import { SessionTable } from './SessionTable';

let copied: string[] = [];
beforeEach(() => {
  copied = [];
  Object.defineProperty(window, 'isSecureContext', { value: true, configurable: true });
  Object.defineProperty(navigator, 'clipboard', {
    value: { writeText: vi.fn(async (s: string) => void copied.push(s)) },
    configurable: true,
  });
});
afterEach(() => vi.restoreAllMocks());

describe('SessionTable', () => {
  const machine = { key: 'gpu-a', hostname: 'gpu-a', ip_address: '10.0.3.17' };

  it('copies screen -R for a detached session, over ssh to its machine', async () => {
    renderWithApp(<SessionTable sessions={[{ pid: '28811', name: 'train.v2', status: 'Detached' }]} machine={machine} />);
    fireEvent.click(screen.getByTestId('session-train.v2'));
    await waitFor(() => expect(copied).toEqual(["ssh -t gpu-a 'screen -R train.v2'"]));
  });

  it('copies the bare command, or ssh to the pattern the settings name', async () => {
    const sessions = [{ pid: '28811', name: 'train.v2', status: 'Detached' }];
    const { unmount } = renderWithApp(<SessionTable sessions={sessions} machine={machine} />, { sshPattern: '' });
    fireEvent.click(screen.getByTestId('session-train.v2'));
    await waitFor(() => expect(copied).toEqual(['screen -R train.v2']));
    unmount();
    renderWithApp(<SessionTable sessions={sessions} machine={machine} />, { sshPattern: 'alice@{ip}' });
    fireEvent.click(screen.getByTestId('session-train.v2'));
    await waitFor(() => expect(copied).toEqual(['screen -R train.v2', "ssh -t alice@10.0.3.17 'screen -R train.v2'"]));
  });

  it('names the session state in the page’s language', () => {
    renderWithApp(<SessionTable sessions={[{ pid: '1', name: 'a', status: 'Detached' }, { pid: '2', name: 'b', status: 'Attached' }]} />, { language: 'zh' });
    expect(screen.getByText('未连接')).toBeInTheDocument();
    expect(screen.getByText('已连接')).toBeInTheDocument();
  });

  it('asks before copying screen -x for an attached session', async () => {
    renderWithApp(<SessionTable sessions={[{ pid: '30012', name: 'notebook', status: 'Attached' }]} />);
    fireEvent.click(screen.getByTestId('session-notebook'));
    expect((await screen.findAllByText('Someone is attached to “notebook”')).length).toBeGreaterThan(0);
    expect(copied).toEqual([]);
    fireEvent.click(screen.getByRole('button', { name: 'Copy' }));
    await waitFor(() => expect(copied).toEqual(['screen -x notebook']));
  });
});

describe('ContainerTable', () => {
  it('parses Docker’s "[0 1]" and copies docker exec', async () => {
    renderWithApp(
      <ContainerTable
        containers={[{ id: '3f2a9c1b7d4e', name: 'bert', status: 'Up 3 hours', image: 'pytorch', memoryUsage: 8589934592, gpuDevices: '[0 1]', cpu_percent: 12 }]}
      />,
    );
    expect(screen.getByText('0, 1')).toBeInTheDocument();
    expect(screen.getByText('8.0 GiB')).toBeInTheDocument();
    fireEvent.click(screen.getByTestId('container-3f2a9c1b7d4e'));
    await waitFor(() => expect(copied).toEqual(['docker exec -it 3f2a9c1b7d4e bash']));
  });

  it('copies docker exec over ssh when it knows the machine', async () => {
    renderWithApp(<ContainerTable containers={[{ id: '3f2a9c1b7d4e', name: 'bert', status: 'Up 3 hours' }]} machine={{ key: 'gpu-a', hostname: 'gpu-a' }} />);
    fireEvent.click(screen.getByTestId('container-3f2a9c1b7d4e'));
    await waitFor(() => expect(copied).toEqual(["ssh -t gpu-a 'docker exec -it 3f2a9c1b7d4e bash'"]));
  });
});
