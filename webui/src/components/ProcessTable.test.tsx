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

/** The PIDs listed, in order: a GPU card's list or a machine's table. */
const pids = () => {
  const items = [...document.querySelectorAll('[data-pid]')].map((e) => e.getAttribute('data-pid'));
  if (items.length) return items;
  return screen
    .getAllByRole('row')
    .slice(1)
    .map((r) => within(r).queryAllByRole('cell')[0]?.textContent);
};

describe('ProcessTable', () => {
  it('shows every process of a GPU, python jobs first, then largest GPU memory', () => {
    renderWithApp(<ProcessTable processes={list} variant="gpu" />);
    expect(pids()).toEqual(['3', '2', '1']);
    expect(screen.getByText('3 processes')).toBeInTheDocument();
    expect(screen.queryByText(/\(es\)|\b1 processes\b/)).toBeNull();
    expect(screen.queryByText('All')).toBeNull(); // no per-card filter to forget
  });

  it('hides other processes only when the Python-only setting is on, and says how many', () => {
    renderWithApp(<ProcessTable processes={list} variant="gpu" pythonOnly />);
    expect(pids()).toEqual(['3', '2']);
    expect(screen.getByText('2 Python processes, 1 other hidden (Settings)')).toBeInTheDocument();
  });

  it('shows each process’s SM utilisation where the agent reports it', () => {
    const { unmount } = renderWithApp(<ProcessTable processes={[proc({ pid: 5, sm_utilization: 61 }), proc({ pid: 6 })]} variant="gpu" />);
    expect(screen.getByText('SM 61%')).toBeInTheDocument();
    unmount();
    renderWithApp(<ProcessTable processes={list} variant="gpu" />);
    expect(screen.queryAllByText(/^SM/)).toHaveLength(0);
  });

  it('shows each process’s whole command line, user and session, so two runs of one script differ', () => {
    const runs = [
      proc({ pid: 11, cmdline: 'python train.py --model llama-7b --batch-size 32 --lr 3e-4 --seed 1', username: 'alice', session: { kind: 'screen', name: 'train-a' } }),
      proc({ pid: 12, cmdline: 'python train.py --model llama-7b --batch-size 32 --lr 3e-4 --seed 2', username: 'bob', session: { kind: 'tmux', name: 'train-b' } }),
    ];
    renderWithApp(<ProcessTable processes={runs} variant="gpu" kill={{ allowed: true, onKill: vi.fn() }} />);
    for (const want of ['python train.py --model llama-7b --batch-size 32 --lr 3e-4 --seed 1', '--seed 2', 'alice', 'bob', 'screen train-a', 'tmux train-b']) {
      expect(screen.getByText(want, { exact: false })).toBeInTheDocument();
    }
    // Every row has its stop button and selection box.
    expect(screen.getAllByRole('button', { name: /^Stop 1[12]$/ })).toHaveLength(2);
    expect(screen.getByRole('checkbox', { name: 'Select process 12' })).toBeInTheDocument();
  });

  it('renders a hostile command line as text', () => {
    const { container } = renderWithApp(<ProcessTable processes={[proc({ pid: 7, name: XSS, cmdline: `python ${XSS}` })]} variant="gpu" />);
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
    expect(onKill).toHaveBeenCalledWith([expect.objectContaining({ pid: 3, username: 'bob', cmdline: 'python3 big.py' })]);
  });

  it('filters my processes when a user is set', () => {
    renderWithApp(<ProcessTable processes={list} variant="all" defaultFilter="mine" myUser="bob" />);
    expect(pids()).toEqual(['3']);
  });
});
