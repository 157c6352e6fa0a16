import { fireEvent, screen, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { proc, XSS } from '../test/fixtures';
import { renderWithApp } from '../test/render';
import { ProcessTable } from './ProcessTable';

const list = [
  proc({ pid: 1, name: 'Xorg', cmdline: '/usr/lib/xorg/Xorg', gpu_memory_usage: 9000, username: 'root' }),
  proc({ pid: 2, name: 'python', cmdline: 'python small.py', gpu_memory_usage: 100 }),
  proc({ pid: 3, name: 'python3', cmdline: 'python3 big.py', gpu_memory_usage: 30000, username: 'bob' }),
];

const pids = () =>
  screen
    .getAllByRole('row')
    .slice(1)
    .map((r) => within(r).queryAllByRole('cell')[0]?.textContent);

describe('ProcessTable', () => {
  it('shows python jobs by default, largest GPU memory first, and all on demand', () => {
    renderWithApp(<ProcessTable processes={list} variant="gpu" />);
    expect(pids()).toEqual(['3', '2']);
    fireEvent.click(screen.getByText('All'));
    expect(pids()).toEqual(['3', '2', '1']);
    expect(screen.getByText('3 of 3 processes')).toBeInTheDocument();
  });

  it('renders a hostile command line as text', () => {
    const { container } = renderWithApp(<ProcessTable processes={[proc({ pid: 7, name: XSS, cmdline: `python ${XSS}` })]} variant="gpu" defaultFilter="all" />);
    expect(container.querySelector('img[src="x"]')).toBeNull();
    expect(screen.getByText(`python ${XSS}`)).toBeInTheDocument();
  });

  it('explains why stopping is disabled and stops when allowed', () => {
    const onKill = vi.fn();
    const { unmount } = renderWithApp(<ProcessTable processes={list} variant="gpu" kill={{ allowed: false, reason: 'no token', onKill }} />);
    for (const b of screen.getAllByRole('button', { name: /Stop/ })) expect(b).toBeDisabled();
    unmount();
    renderWithApp(<ProcessTable processes={list} variant="gpu" kill={{ allowed: true, onKill }} />);
    fireEvent.click(screen.getByRole('button', { name: 'Stop 3' }));
    expect(onKill).toHaveBeenCalledWith([3]);
  });

  it('filters my processes when a user is set', () => {
    renderWithApp(<ProcessTable processes={list} variant="all" defaultFilter="mine" myUser="bob" />);
    expect(pids()).toEqual(['3']);
  });
});
