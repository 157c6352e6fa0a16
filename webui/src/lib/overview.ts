// The fleet overview's GPU rows: their state, order, filter and heat colour.
import type { GpuRow } from '../api/types';
import { percentOf } from './format';

/** What a GPU is, in the hub's words (GpuRow.free, busy, idle_held). */
export type GpuState = 'free' | 'busy' | 'idle' | 'error' | 'offline' | 'unknown';

export function gpuState(g: GpuRow): GpuState {
  if (!g.online) return 'offline';
  if (g.error) return 'error';
  if (g.idle_held) return 'idle';
  if (g.busy) return 'busy';
  if (g.free) return 'free';
  return 'unknown';
}

export type SortKey = 'machine' | 'state' | 'util' | 'memory' | 'free' | 'temp' | 'power' | 'user';
export type SortDir = 'asc' | 'desc';

/** The direction a column sorts in first: the figures people look for (most free, busiest, hottest) on top. */
export const FIRST_DIR: Record<SortKey, SortDir> = {
  machine: 'asc',
  state: 'asc',
  util: 'desc',
  memory: 'desc',
  free: 'desc',
  temp: 'desc',
  power: 'desc',
  user: 'asc',
};

const STATE_ORDER: Record<GpuState, number> = { free: 0, idle: 1, busy: 2, unknown: 3, error: 4, offline: 5 };

const byName = new Intl.Collator('en', { numeric: true });

/** A row's value for a sort key; undefined sorts last whichever the direction. */
function value(g: GpuRow, key: SortKey): number | string | undefined {
  switch (key) {
    case 'state':
      return STATE_ORDER[gpuState(g)];
    case 'util':
      return g.utilization ?? undefined;
    case 'memory':
      return g.memory_total ? percentOf(g.memory_used, g.memory_total) : undefined;
    case 'free':
      return g.memory_free ?? undefined;
    case 'temp':
      return g.temperature ?? undefined;
    case 'power':
      return g.power_draw ?? undefined;
    case 'user':
      return g.users?.length ? g.users[0] : undefined;
    default:
      return undefined;
  }
}

/** Machine name, then GPU index: the tie-breaker of every order. */
function byPlace(a: GpuRow, b: GpuRow): number {
  return byName.compare(a.hostname || a.machine || '', b.hostname || b.machine || '') || (a.index ?? 0) - (b.index ?? 0);
}

/** Rows in a new array, by key and direction; unknown values last, then by machine and GPU. */
export function sortGpus(rows: readonly GpuRow[], key: SortKey, dir: SortDir): GpuRow[] {
  const sign = dir === 'asc' ? 1 : -1;
  if (key === 'machine') return [...rows].sort((a, b) => sign * byPlace(a, b));
  const keyed = rows.map((g) => ({ g, v: value(g, key) }));
  keyed.sort((x, y) => {
    if (x.v === undefined || y.v === undefined) return x.v === y.v ? byPlace(x.g, y.g) : x.v === undefined ? 1 : -1;
    const c = typeof x.v === 'string' ? byName.compare(x.v, String(y.v)) : x.v - (y.v as number);
    return sign * c || byPlace(x.g, y.g);
  });
  return keyed.map((k) => k.g);
}

/** Rows whose machine, GPU name or users contain the text, in the chosen state ('all' for any). */
export function filterGpus(rows: readonly GpuRow[], text: string, state: GpuState | 'all'): GpuRow[] {
  const q = text.trim().toLowerCase();
  return rows.filter(
    (g) =>
      (state === 'all' || gpuState(g) === state) &&
      (!q ||
        (g.hostname ?? '').toLowerCase().includes(q) ||
        (g.machine ?? '').toLowerCase().includes(q) ||
        (g.name ?? '').toLowerCase().includes(q) ||
        (g.users ?? []).some((u) => u.toLowerCase().includes(q))),
  );
}

/** What the heat map colours by. */
export type HeatMetric = 'util' | 'memory' | 'temp';

/** A GPU's heat, 0 to 1, for the metric; null when not known. Temperatures run from 30 °C (0) to 90 °C (1). */
export function heat(g: GpuRow, metric: HeatMetric): number | null {
  if (!g.online || g.error) return null;
  const clamp = (v: number) => Math.max(0, Math.min(1, v));
  switch (metric) {
    case 'util':
      return g.utilization == null ? null : clamp(g.utilization / 100);
    case 'memory':
      return g.memory_total ? clamp((g.memory_used ?? 0) / g.memory_total) : null;
    default:
      return g.temperature == null ? null : clamp((g.temperature - 30) / 60);
  }
}

// Viridis at five stops: ordered in lightness, readable with colour blindness, in both themes.
const VIRIDIS: [number, number, number][] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

/** The colour of a heat from 0 (dark violet) to 1 (yellow), as rgb(). */
export function heatColor(h: number): string {
  const x = Math.max(0, Math.min(1, h)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const [r, g, b] = VIRIDIS[i].map((c, k) => Math.round(c + (VIRIDIS[i + 1][k] - c) * f));
  return `rgb(${r}, ${g}, ${b})`;
}

/**
 * The side of a heat-map cell, px, so that n cells fit width × maxHeight:
 * between 4 and 18, with a 1 px gap (part of the side).
 */
export function cellSize(n: number, width: number, maxHeight: number): number {
  if (n <= 0 || width <= 0) return 18;
  let s = Math.floor(Math.sqrt((width * maxHeight) / n));
  s = Math.max(4, Math.min(18, s));
  while (s > 4 && Math.ceil(n / Math.floor(width / s)) * s > maxHeight) s--;
  return s;
}
