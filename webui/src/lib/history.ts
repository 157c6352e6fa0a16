// Shaping history series for charts.
import type { Series } from '../api/types';

export interface ChartRow {
  time: number;
  [series: string]: number;
}

/** A readable name for a series from its labels: "GPU 0", a user ("GPU 0 · alice" when GPUs differ), the machine, or the metric. */
export function seriesName(s: Series, i: number, oneGpu = false): string {
  const l = s.labels ?? {};
  const gpu = l.gpu != null && l.gpu !== '' ? `GPU ${l.gpu}` : '';
  if (l.user) return gpu && !oneGpu ? `${gpu} · ${l.user}` : l.user;
  if (gpu) return gpu;
  return l.machine || l.hostname || s.metric || `series ${i + 1}`;
}

/** Merges series into rows keyed by time (ms), one column per series name. */
export function toChartRows(series: readonly Series[] | null | undefined): { rows: ChartRow[]; names: string[] } {
  const byTime = new Map<number, ChartRow>();
  const names: string[] = [];
  const oneGpu = new Set((series ?? []).map((s) => s.labels?.gpu ?? '')).size <= 1;
  (series ?? []).forEach((s, i) => {
    const name = seriesName(s, i, oneGpu);
    names.push(name);
    for (const p of s.points ?? []) {
      if (p.time == null || p.value == null || !Number.isFinite(p.value)) continue;
      const t = Math.round(p.time * 1000);
      let row = byTime.get(t);
      if (!row) {
        row = { time: t };
        byTime.set(t, row);
      }
      row[name] = p.value;
    }
  });
  const rows = [...byTime.values()].sort((a, b) => a.time - b.time);
  return { rows, names };
}

export const RANGES = {
  '1h': 3600,
  '6h': 6 * 3600,
  '24h': 24 * 3600,
  '7d': 7 * 24 * 3600,
} as const;
export type RangeKey = keyof typeof RANGES;

/** A step giving about 240 points over the range, at least 10 s. */
export function stepFor(rangeSeconds: number): string {
  return `${Math.max(10, Math.round(rangeSeconds / 240))}s`;
}
