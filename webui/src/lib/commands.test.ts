// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { dockerExecCommand, overSsh, sessionCommand, shellQuote, sshTarget, validSshPattern } from './commands';

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

describe('ssh forms', () => {
  const m = { key: 'gpu-a', hostname: 'gpu-a', ip_address: '10.0.3.17' };
  it('fills the pattern with the machine', () => {
    expect(sshTarget('{host}', m)).toBe('gpu-a');
    expect(sshTarget('alice@{ip}', m)).toBe('alice@10.0.3.17');
    expect(sshTarget('{host}.lab.example', m)).toBe('gpu-a.lab.example');
    expect(sshTarget('', m)).toBe('');
  });
  it('wraps the command for the remote shell', () => {
    expect(overSsh('gpu-a', sessionCommand({ name: 'train.v2', status: 'Detached' }).command)).toBe("ssh -t gpu-a 'screen -R train.v2'");
    expect(overSsh('', 'screen -R x')).toBe('screen -R x');
  });
  it('refuses patterns and machine names that would reach the shell or look like options', () => {
    expect(validSshPattern('{host}; rm -rf ~')).toBe(false);
    expect(sshTarget('$(id)@{host}', m)).toBe('');
    expect(sshTarget('{host}', { hostname: 'a b;reboot' })).toBe('');
    expect(sshTarget('{host}', { hostname: '-oProxyCommand=x' })).toBe('');
  });
});
