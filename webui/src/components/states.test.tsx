import { fireEvent, screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/client';
import { summary } from '../test/fixtures';
import { renderWithApp } from '../test/render';
import { EmptyFleet } from './EmptyFleet';
import { ErrorState } from './ErrorState';
import { MachineCard } from './MachineCard';

describe('error and empty states', () => {
  it('says when the hub is unreachable', () => {
    renderWithApp(<ErrorState error={new ApiError(0, 'hub unreachable')} hubUrl="http://hub:7864" />);
    expect(screen.getByText('Cannot reach the hub')).toBeInTheDocument();
    expect(screen.getByText(/http:\/\/hub:7864/)).toBeInTheDocument();
  });

  it('asks for the API token on 401', () => {
    const save = vi.fn();
    renderWithApp(<ErrorState error={new ApiError(401, 'unauthenticated')} hubUrl="" onSaveToken={save} />);
    fireEvent.change(screen.getByLabelText('API token'), { target: { value: 's3cret' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save token' }));
    expect(save).toHaveBeenCalledWith('s3cret');
  });

  it('tells how to start an agent when the fleet is empty', () => {
    renderWithApp(<EmptyFleet hubHost="lab-hub" />);
    expect(screen.getByText('gpumon-agent --hub lab-hub:7865 --token-file /etc/gpumon/agent-token')).toBeInTheDocument();
  });

  it('greys an offline machine and tags it', () => {
    renderWithApp(<MachineCard m={summary({ online: false })} state="offline" expanded={false} onToggle={() => {}} />);
    const card = screen.getByTestId('machine-gpu-server-01');
    expect(card.className).toMatch(/machine-offline/);
    expect(screen.getByText('Offline')).toBeInTheDocument();
    expect(screen.getByText('10.0.3.17')).toBeInTheDocument();
  });

  it('collapses and expands a machine', () => {
    const toggle = vi.fn();
    renderWithApp(
      <MachineCard m={summary()} state="online" expanded onToggle={toggle}>
        <div>body here</div>
      </MachineCard>,
    );
    expect(screen.getByText('body here')).toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: 'Collapse' }));
    expect(toggle).toHaveBeenCalledWith('gpu-server-01');
  });
});
