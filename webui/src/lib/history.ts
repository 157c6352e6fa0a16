// Shaping history series for charts.
import dayjs from 'dayjs';
import type { Series } from '../api/types';
import { formatMiB } from './format';

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

/** What a metric's values are, for their unit and precision. */
export type ValueKind = 'percent' | 'mib' | 'celsius' | 'watt' | 'mhz' | 'count' | 'load';

/** Chart values with their unit: "86.9%", "39.4 GiB", "412 W", "1,980 MHz". */
export function formatValue(kind: ValueKind, v: number | null | undefined): string {
  if (v == null || !Number.isFinite(v)) return '–';
  switch (kind) {
    case 'percent':
      return `${v.toFixed(Math.abs(v) < 10 && v !== Math.round(v) ? 1 : 0)}%`;
    case 'mib':
      return formatMiB(v);
    case 'celsius':
      return `${Math.round(v)}°C`;
    case 'watt':
      return `${Math.round(v).toLocaleString('en-US')} W`;
    case 'mhz':
      return `${Math.round(v).toLocaleString('en-US')} MHz`;
    case 'load':
      return v.toFixed(2);
    default:
      return Math.round(v).toLocaleString('en-US');
  }
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Tick spacings a reader counts in. */
const TICK_STEPS = [10 * SECOND, 15 * SECOND, 30 * SECOND, MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY];

/**
 * Time-axis ticks from start to end (ms): at most maxTicks of them, on round
 * local times of one spacing, and the label format that spacing needs (no
 * seconds when ticks fall on minutes, the date when the range spans days).
 */
export function timeTicks(start: number, end: number, maxTicks: number): { ticks: number[]; format: string } {
  const span = Math.max(0, end - start);
  const want = Math.max(2, Math.floor(maxTicks));
  // n ticks hold n - 1 spacings.
  const step = TICK_STEPS.find((s) => span / s <= want - 1) ?? Math.ceil(span / (want - 1) / DAY) * DAY;
  // Round times in local time: from the local midnight before start.
  const midnight = dayjs(start).startOf('day').valueOf();
  let t = midnight + Math.ceil((start - midnight) / step) * step;
  const ticks: number[] = [];
  for (; t <= end && ticks.length < want; t += step) ticks.push(t);
  const format = step >= DAY ? 'MM-DD' : span > DAY ? 'MM-DD HH:mm' : step < MINUTE ? 'HH:mm:ss' : 'HH:mm';
  return { ticks, format };
}

/**
 * Room, in px, right of a chart's plot for half its widest time label: a
 * tick can fall on the last sample, and its label is centred on it. At
 * 12 px a character of a label is at most ~9.5 px wide ("HH:mm:ss"
 * measures ~48 px).
 */
export function edgeRoom(format: string): number {
  return Math.max(24, Math.ceil(format.length * 4.75) + 2);
}
