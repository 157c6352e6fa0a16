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
  it('copies screen -R for a detached session', async () => {
    renderWithApp(<SessionTable sessions={[{ pid: '28811', name: 'train.v2', status: 'Detached' }]} />);
    fireEvent.click(screen.getByTestId('session-train.v2'));
    await waitFor(() => expect(copied).toEqual(['screen -R train.v2']));
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
});
