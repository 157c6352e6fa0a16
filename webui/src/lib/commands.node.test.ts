// @vitest-environment node
// Checked with a real POSIX shell, so this file is type-checked with Node's types (tsconfig.node.json).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { overSsh, sessionCommand } from './commands';

describe('a copied ssh command in a shell', () => {
  it('reaches the machine with the session’s own name, whatever it holds', () => {
    // What a POSIX shell makes of it, here and on the machine: the session's own name arrives.
    const words = (line: string) => execFileSync('sh', ['-c', `printf '%s\\n' ${line}`], { encoding: 'utf8' }).split('\n').slice(0, -1);
    const local = words(overSsh('gpu-a', sessionCommand({ name: "it's $HOME", status: 'Detached' }).command));
    expect(local.slice(0, 3)).toEqual(['ssh', '-t', 'gpu-a']);
    expect(local).toHaveLength(4);
    expect(words(local[3])).toEqual(['screen', '-R', "it's $HOME"]);
  });
});
