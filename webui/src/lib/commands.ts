// Shell commands a person copies to reach a job.
import type { TerminalSession } from '../api/types';

export interface SessionCommand {
  command: string;
  /** Someone is attached: joining shares their terminal, so ask first. */
  needsConfirm: boolean;
}

/** Quote a name for a POSIX shell when it holds anything unusual. */
export function shellQuote(s: string): string {
  if (/^[\w.@%+=:,/-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** screen -R for a detached session, screen -x (after a confirm) for an attached one; tmux likewise. */
export function sessionCommand(s: Pick<TerminalSession, 'name' | 'status' | 'kind'>): SessionCommand {
  const name = shellQuote(s.name ?? '');
  const attached = /attached|multi/i.test(s.status ?? '');
  if (s.kind === 'tmux') return { command: `tmux attach -t ${name}`, needsConfirm: attached };
  return attached ? { command: `screen -x ${name}`, needsConfirm: true } : { command: `screen -R ${name}`, needsConfirm: false };
}

export function dockerExecCommand(id: string): string {
  return `docker exec -it ${shellQuote(id)} bash`;
}
