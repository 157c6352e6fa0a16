import { fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { summary } from '../test/fixtures';
import { renderWithApp } from '../test/render';
import { ForgetButton } from './ForgetButton';

afterEach(() => vi.unstubAllGlobals());

const offline = summary({ online: false });

describe('ForgetButton', () => {
  it.each(['online', 'stale'] as const)('is not offered for a machine %s', (state) => {
    renderWithApp(<ForgetButton m={summary()} state={state} />, { adminToken: 'admin-secret' });
    expect(screen.queryByTestId('forget-machine')).toBeNull();
  });

  it('is disabled without the admin token', () => {
    const fetchMock = vi.fn();
    vi.stubGlobal('fetch', fetchMock);
    renderWithApp(<ForgetButton m={offline} state="offline" />, { adminToken: '' });
    const button = screen.getByTestId('forget-machine');
    expect(button).toBeDisabled();
    fireEvent.click(button);
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it('confirms, deletes with the admin token and reports', async () => {
    const fetchMock = vi.fn(async () => new Response('{}'));
    vi.stubGlobal('fetch', fetchMock);
    const done = vi.fn();
    renderWithApp(<ForgetButton m={offline} state="offline" onForgotten={done} />, { adminToken: 'admin-secret' });
    fireEvent.click(screen.getByTestId('forget-machine'));
    expect(await screen.findByText('Forget gpu-server-01?')).toBeInTheDocument();
    expect(fetchMock).not.toHaveBeenCalled();
    fireEvent.click(screen.getByRole('button', { name: 'Forget' }));
    await waitFor(() => expect(done).toHaveBeenCalled());
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/v1/machines/gpu-server-01');
    expect(init.method).toBe('DELETE');
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer admin-secret');
    expect(await screen.findByText('gpu-server-01 forgotten')).toBeInTheDocument();
  });

  it('says why the hub refused', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ message: 'machine "gpu-server-01" is online: stop its agent first' }), { status: 400 })));
    const done = vi.fn();
    renderWithApp(<ForgetButton m={offline} state="offline" onForgotten={done} />, { adminToken: 'admin-secret' });
    fireEvent.click(screen.getByTestId('forget-machine'));
    fireEvent.click(await screen.findByRole('button', { name: 'Forget' }));
    expect(await screen.findByText(/Forgetting failed: machine "gpu-server-01" is online/)).toBeInTheDocument();
    expect(done).not.toHaveBeenCalled();
  });
});
