// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { dockerExecCommand, sessionCommand, shellQuote } from './commands';

describe('commands', () => {
  it('resumes a detached screen session without asking', () => {
    expect(sessionCommand({ name: 'train.v2', status: 'Detached' })).toEqual({ command: 'screen -R train.v2', needsConfirm: false });
  });
  it('joins an attached or multi session only after a confirm', () => {
    expect(sessionCommand({ name: 'notebook', status: 'Attached' })).toEqual({ command: 'screen -x notebook', needsConfirm: true });
    expect(sessionCommand({ name: 'shared', status: 'Multi' }).needsConfirm).toBe(true);
  });
  it('attaches tmux sessions with tmux', () => {
    expect(sessionCommand({ name: 'work', status: 'Detached', kind: 'tmux' }).command).toBe('tmux attach -t work');
  });
  it('quotes odd names', () => {
    expect(shellQuote("it's here")).toBe(`'it'\\''s here'`);
    expect(sessionCommand({ name: 'a b', status: 'Detached' }).command).toBe("screen -R 'a b'");
  });
  it('builds docker exec', () => {
    expect(dockerExecCommand('3f2a9c1b7d4e')).toBe('docker exec -it 3f2a9c1b7d4e bash');
  });
});
