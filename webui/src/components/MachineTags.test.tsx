import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { summary } from '../test/fixtures';
import { renderWithApp } from '../test/render';
import { MachineTags } from './MachineTags';

describe('MachineTags clock tag', () => {
  it('shows the clock offset of a machine whose clock is out of range', () => {
    renderWithApp(<MachineTags m={summary({ clock_offset_seconds: 3725 })} state="online" />);
    const tag = screen.getByText('clock +1 h 2 min');
    expect(tag.title).toMatch(/stored at the time the hub received them/);
  });

  it('says a clock behind with a minus sign', () => {
    renderWithApp(<MachineTags m={summary({ clock_offset_seconds: -900 })} state="online" />);
    expect(screen.getByText('clock −15 min')).toBeInTheDocument();
  });

  it('speaks Chinese', () => {
    renderWithApp(<MachineTags m={summary({ clock_offset_seconds: 45 })} state="online" />, { language: 'zh' });
    expect(screen.getByText('时钟偏差 +45 s')).toBeInTheDocument();
  });

  it('shows no clock tag while the clock is in range', () => {
    renderWithApp(<MachineTags m={summary({ clock_offset_seconds: undefined })} state="online" />);
    expect(screen.queryByText(/clock/)).toBeNull();
  });
});

describe('MachineTags in a cluster', () => {
  it('names the hub holding the machine', () => {
    renderWithApp(<MachineTags m={summary({ hub: 'hub-b' })} state="online" />);
    expect(screen.getByText('hub hub-b').title).toMatch(/holds this machine’s agent stream/);
  });

  it('says reconnecting, not offline, while the machine moves to another hub', () => {
    renderWithApp(<MachineTags m={summary({ hub: 'hub-a', online: false, reconnecting: true })} state="offline" />);
    expect(screen.getByText('Reconnecting')).toBeInTheDocument();
    expect(screen.queryByText('Offline')).toBeNull();
  });

  it('shows no hub on a single hub', () => {
    renderWithApp(<MachineTags m={summary({})} state="online" />);
    expect(screen.queryByText(/^hub /)).toBeNull();
  });

  it('speaks Chinese', () => {
    renderWithApp(<MachineTags m={summary({ hub: 'hub-a', online: false, reconnecting: true })} state="offline" />, { language: 'zh' });
    expect(screen.getByText('重连中')).toBeInTheDocument();
  });
});
