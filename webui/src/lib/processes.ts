// Which processes to show, and in what order.
import type { Process, Report } from '../api/types';

const PYTHON = /(^|[/\s])(python[\d.]*|ipython[\d.]*|jupyter[\w-]*|torchrun|accelerate|deepspeed|conda|uv)(\s|$)/i;

/** A python job: the process name or the program in its command line is python (or a python launcher). */
export function isPython(p: Pick<Process, 'name' | 'cmdline'>): boolean {
  const name = (p.name ?? '').toLowerCase();
  if (/^(python|ipython|pythonw)[\d.]*$/.test(name) || name === 'torchrun' || name.startsWith('pt_main_thread')) return true;
  const first = (p.cmdline ?? '').trim().split(/\s+/)[0] ?? '';
  return PYTHON.test(` ${first} `) || /(^|\/)python[\d.]*$/i.test(first);
}

/** Python first, then by GPU memory (largest first), then by pid. Returns a new array. */
export function sortProcesses<T extends Process>(list: readonly T[]): T[] {
  return [...list].sort((a, b) => {
    const pa = isPython(a) ? 0 : 1;
    const pb = isPython(b) ? 0 : 1;
    if (pa !== pb) return pa - pb;
    const ma = a.gpu_memory_usage ?? 0;
    const mb = b.gpu_memory_usage ?? 0;
    if (ma !== mb) return mb - ma;
    return (a.pid ?? 0) - (b.pid ?? 0);
  });
}

/** Case-insensitive match of a query against name, cmdline, user or pid. */
export function matchesQuery(p: Process, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  return (
    (p.name ?? '').toLowerCase().includes(q) ||
    (p.cmdline ?? '').toLowerCase().includes(q) ||
    (p.username ?? '').toLowerCase() === q ||
    String(p.pid ?? '') === q
  );
}

export interface ProcessFilter {
  pythonOnly?: boolean;
  user?: string;
  query?: string;
}

export function filterProcesses<T extends Process>(list: readonly T[], f: ProcessFilter): T[] {
  const user = f.user?.trim();
  return list.filter(
    (p) =>
      (!f.pythonOnly || isPython(p)) &&
      (!user || p.username === user) &&
      (!f.query || matchesQuery(p, f.query)),
  );
}

/** Where a process runs: "screen train.v2 (alice)", "container 3f2a9c1b7d4e", or "". */
export function processPlace(p: Process, containerName?: (id: string) => string | undefined): string {
  const parts: string[] = [];
  if (p.session && p.session.name) {
    const who = p.session.user ? ` (${p.session.user})` : '';
    parts.push(`${p.session.kind || 'screen'} ${p.session.name}${who}`);
  }
  if (p.container_id) {
    const name = containerName?.(p.container_id);
    parts.push(`docker ${name ?? p.container_id}`);
  }
  return parts.join(' · ');
}

const CUT = /(?:^|; )(\d+) of (\d+) processes listed \(/g;

/**
 * How many of the machine's processes its report lists, when the list was
 * cut to the hub's limit per report (the "process" collector status says
 * so); null when the report lists every process. A list the agent cut and
 * the hub cut again says so twice: the machine's total is in the first
 * note, what is listed in the last.
 */
export function processListCut(report: Pick<Report, 'collectors'> | undefined): { kept: number; total: number } | null {
  const msg = report?.collectors?.find((c) => c.name === 'process')?.message ?? '';
  const notes = [...msg.matchAll(CUT)];
  if (!notes.length) return null;
  return { kept: Number(notes[notes.length - 1][1]), total: Number(notes[0][2]) };
}
