import { screen } from '@testing-library/react';
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

  it('colours a hot GPU red and handles absent values', () => {
    renderWithApp(<GpuCard gpu={gpu({ id: 1, temperature: 88, utilization: null as never })} />);
    expect(screen.getByText('88°C').closest('.ant-tag')?.className).toMatch(/red/);
    expect(screen.getByText('–')).toBeInTheDocument();
  });

  it('flags an idle GPU whose memory is held', () => {
    renderWithApp(<GpuCard gpu={gpu({ utilization: 0, processes: [proc({ pid: 9 })] })} />);
    expect(screen.getByText('idle, memory held')).toBeInTheDocument();
  });
});
