// @vitest-environment node
import { describe, expect, it } from 'vitest';
import type { Process } from '../api/types';
import { filterProcesses, isPython, matchesQuery, processListCut, processPlace, sortProcesses } from './processes';

const p = (pid: number, name: string, cmdline: string, gpu = 0, username = 'alice'): Process => ({
  pid,
  name,
  cmdline,
  gpu_memory_usage: gpu,
  username,
});

describe('processes', () => {
  it.each([
    [p(1, 'python', 'python train.py'), true],
    [p(1, 'python3.11', '/usr/bin/python3.11 -m torch.distributed.run'), true],
    [p(1, 'pt_main_thread', 'python train.py'), true],
    [p(1, 'bash', '/opt/conda/bin/python eval.py'), true],
    [p(1, 'torchrun', 'torchrun --nproc 8 train.py'), true],
    [p(1, 'Xorg', '/usr/lib/xorg/Xorg :0'), false],
    [p(1, 'bash', 'bash -c echo python'), false],
  ])('isPython(%j) = %s', (proc, want) => expect(isPython(proc)).toBe(want));

  it('sorts python first, then by GPU memory, then pid', () => {
    const list = [p(5, 'Xorg', 'Xorg', 9000), p(3, 'python', 'python a.py', 100), p(2, 'python', 'python b.py', 40000), p(1, 'python', 'python c.py', 100)];
    expect(sortProcesses(list).map((x) => x.pid)).toEqual([2, 1, 3, 5]);
    expect(list[0].pid).toBe(5); // input untouched
  });

  it('filters by python, user and query', () => {
    const list = [p(1, 'python', 'python train.py --lr 3e-4', 10, 'alice'), p(2, 'vim', 'vim notes.txt', 0, 'bob'), p(3, 'python', 'python serve.py', 0, 'bob')];
    expect(filterProcesses(list, { pythonOnly: true }).map((x) => x.pid)).toEqual([1, 3]);
    expect(filterProcesses(list, { user: 'bob' }).map((x) => x.pid)).toEqual([2, 3]);
    expect(filterProcesses(list, { query: 'TRAIN' }).map((x) => x.pid)).toEqual([1]);
    expect(filterProcesses(list, { query: '2' }).map((x) => x.pid)).toEqual([2]);
    expect(matchesQuery(list[1], '')).toBe(true);
  });

  it('names the session and container a process runs in', () => {
    expect(processPlace({ pid: 1, session: { kind: 'screen', name: 'train.v2', user: 'alice' } })).toBe('screen train.v2 (alice)');
    expect(processPlace({ pid: 1, container_id: '3f2a9c1b7d4e' }, () => 'bert')).toBe('docker bert');
    expect(processPlace({ pid: 1, session: null as never, container_id: '' })).toBe('');
  });

  it('reads a process list cut to the hub\'s limit from the process collector', () => {
    const msg = '8 of 86 processes listed (the hub takes at most 8 processes per report): those using a GPU and the busiest others';
    expect(processListCut({ collectors: [{ name: 'gpu', message: msg }, { name: 'process', message: msg }] })).toEqual({ kept: 8, total: 86 });
    expect(processListCut({ collectors: [{ name: 'process', message: 'cannot read /proc/1/stat; ' + msg }] })).toEqual({ kept: 8, total: 86 });
    const twice = `${msg}; 5 of 8 processes listed (the hub takes at most 6000 bytes per report): those using a GPU and the busiest others`;
    expect(processListCut({ collectors: [{ name: 'process', message: twice }] })).toEqual({ kept: 5, total: 86 });
    expect(processListCut({ collectors: [{ name: 'gpu', message: msg }] })).toBeNull();
    expect(processListCut({ collectors: [{ name: 'process', message: 'cannot read /proc/1/stat' }] })).toBeNull();
    expect(processListCut({})).toBeNull();
    expect(processListCut(undefined)).toBeNull();
  });
});
