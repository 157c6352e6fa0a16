import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { gpu, proc } from '../test/fixtures';
import { renderWithApp } from '../test/render';
import { GpuCard } from './GpuCard';

describe('GpuCard', () => {
  it('shows name, temperature, utilisation and used/total MiB', () => {
    renderWithApp(<GpuCard gpu={gpu()} />);
    expect(screen.getByText('GPU 0')).toBeInTheDocument();
    expect(screen.getByText('NVIDIA A100-SXM4-80GB')).toBeInTheDocument();
    expect(screen.getByText('61°C')).toBeInTheDocument();
    expect(screen.getByText('97%')).toBeInTheDocument();
    expect(screen.getByText('40,321 / 81,920 MiB')).toBeInTheDocument();
  });

  it('keeps a full GPU’s figures in the text colour (antd turns a 100 % bar green, 2:1 on white)', () => {
    const { container } = renderWithApp(<GpuCard gpu={gpu({ utilization: 100, memory_used: 81920, memory_total: 81920 })} />);
    expect(screen.getByText('100%')).toBeInTheDocument();
    expect(container.querySelectorAll('.ant-progress').length).toBe(2);
    expect(container.querySelector('.ant-progress-status-success')).toBeNull();
  });

  it('colours a hot GPU red and handles absent values', () => {
    renderWithApp(<GpuCard gpu={gpu({ id: 1, temperature: 88, utilization: null as never })} />);
    expect(screen.getByText('88°C').closest('.ant-tag')?.className).toMatch(/red/);
    expect(screen.getByText('–')).toBeInTheDocument();
  });

  it('tags a GPU only as the hub says: idle for a while, then held but idle', () => {
    const idle = gpu({ utilization: 0, processes: [proc({ pid: 9 })], idle_since: '2026-11-29T02:00:00Z' });
    const { unmount } = renderWithApp(<GpuCard gpu={idle} asOf="2026-11-29T02:03:10Z" />);
    expect(screen.getByText('idle 3 min').closest('[data-held]')?.getAttribute('data-held')).toBe('false');
    expect(screen.queryByText(/memory held/)).toBeNull();
    unmount();
    const { unmount: again } = renderWithApp(<GpuCard gpu={{ ...idle, idle_held: true }} asOf="2026-11-29T02:42:00Z" />);
    expect(screen.getByText('idle, memory held · 42 min').closest('.ant-tag')?.className).toMatch(/warning/);
    again();
    // The same figures without the hub's word: no tag at all (the page does not judge by itself).
    renderWithApp(<GpuCard gpu={gpu({ utilization: 0, processes: [proc({ pid: 9 })] })} asOf="2026-11-29T02:42:00Z" />);
    expect(screen.queryByTestId('idle-tag')).toBeNull();
  });

  it('shows no idle tag for an offline machine', () => {
    renderWithApp(<GpuCard gpu={gpu({ idle_since: '2026-11-29T02:00:00Z', idle_held: true })} asOf="2026-11-29T03:00:00Z" offline />);
    expect(screen.queryByTestId('idle-tag')).toBeNull();
  });

  it('lists every process by default, and only Python ones when the setting says so', () => {
    const g = gpu({ processes: [proc({ pid: 1, name: 'Xorg', cmdline: '/usr/lib/xorg/Xorg', username: 'root' }), proc({ pid: 2 })] });
    const { unmount } = renderWithApp(<GpuCard gpu={g} />);
    expect(screen.getByText('2 processes')).toBeInTheDocument();
    expect(within(screen.getByRole('list')).getByText('root')).toBeInTheDocument();
    unmount();
    renderWithApp(<GpuCard gpu={g} pythonOnly />);
    expect(screen.getByText('1 Python process, 1 other hidden (Settings)')).toBeInTheDocument();
  });
});
