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

/** The characters an ssh target pattern may hold: user@host names, IPs and the placeholders. */
const TARGET_PATTERN = /^[\w.@%+:[\]{}-]*$/;

/** Whether a pattern for ssh targets ("{host}", "alice@{ip}") is one the page can use. */
export function validSshPattern(pattern: string): boolean {
  return TARGET_PATTERN.test(pattern);
}

/** Where ssh goes for a machine: the pattern with {host}, {ip} and {key} filled in; empty when the pattern is empty or unusable. */
export function sshTarget(pattern: string, m: { hostname?: string; ip_address?: string; key?: string }): string {
  if (!pattern || !validSshPattern(pattern)) return '';
  const vars: Record<string, string> = { host: m.hostname || m.key || '', ip: m.ip_address || m.hostname || '', key: m.key || m.hostname || '' };
  const out = pattern.replace(/\{(\w+)\}/g, (all, k: string) => vars[k] ?? all);
  // A machine's name may hold anything: the target is used only when it stays a plain word.
  return /^[\w.@%+:[\]-]+$/.test(out) && !out.startsWith('-') ? out : '';
}

/** A command to run on another machine through ssh, with a terminal (-t); the command itself when there is no target. */
export function overSsh(target: string, command: string): string {
  return target ? `ssh -t ${target} ${shellQuote(command)}` : command;
}
