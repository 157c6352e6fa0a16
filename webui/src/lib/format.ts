// Formatting of the values the hub reports. Units follow the wire format:
// GPU memory in MiB, system memory and disk in bytes, percentages 0-100.
import dayjs from 'dayjs';
import { translate, type MessageKey, type Vars } from '../state/messages';

/** Words for a duration's units: the page's translate function (English by default). */
export type Words = (key: MessageKey, vars?: Vars) => string;
const english: Words = (key, vars) => translate('en', key, vars);

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** formatBytes(1536) === "1.5 KiB"; null/undefined/NaN give "–". */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes == null || !Number.isFinite(bytes)) return '–';
  let v = Math.max(0, bytes);
  let i = 0;
  while (v >= 1024 && i < BYTE_UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  const digits = i === 0 || v >= 100 ? 0 : 1;
  return `${v.toFixed(digits)} ${BYTE_UNITS[i]}`;
}

/** formatMiB(40321) === "39.4 GiB"; small values stay in MiB. */
export function formatMiB(mib: number | null | undefined): string {
  if (mib == null || !Number.isFinite(mib)) return '–';
  if (mib < 1024) return `${Math.round(mib)} MiB`;
  return formatBytes(mib * 1024 * 1024);
}

/** formatPercent(12.345) === "12.3%"; null gives "–". */
export function formatPercent(p: number | null | undefined, digits = 1): string {
  if (p == null || !Number.isFinite(p)) return '–';
  return `${p.toFixed(digits)}%`;
}

/** Share of used over total in percent (0 when total is 0). */
export function percentOf(used: number | null | undefined, total: number | null | undefined): number {
  if (!used || !total || total <= 0) return 0;
  return Math.min(100, Math.max(0, (used / total) * 100));
}

/** Seconds as a short duration in t's words: "45 s", "3 min", "2 h 5 min", "3 d 4 h" (Chinese: "2 小时 5 分钟"). */
export function formatDuration(seconds: number | null | undefined, t: Words = english): string {
  if (seconds == null || !Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return t('dur.s', { n: s });
  const m = Math.floor(s / 60);
  if (m < 60) return t('dur.min', { n: m });
  const h = Math.floor(m / 60);
  const pair = (a: string, b: string) => t('dur.pair', { a, b });
  if (h < 24) return m % 60 ? pair(t('dur.h', { n: h }), t('dur.min', { n: m % 60 })) : t('dur.h', { n: h });
  const d = Math.floor(h / 24);
  return h % 24 ? pair(t('dur.d', { n: d }), t('dur.h', { n: h % 24 })) : t('dur.d', { n: d });
}

/** A clock offset in seconds with its sign: "+2 h 5 min", "−45 s". */
export function formatOffset(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return '–';
  return `${seconds < 0 ? '−' : '+'}${formatDuration(Math.abs(seconds))}`;
}

/** Seconds between a time and now, never negative; null for no time. */
export function secondsSince(time: string | number | null | undefined, now: number): number | null {
  if (time == null || time === '') return null;
  const ms = typeof time === 'number' ? time * 1000 : Date.parse(time);
  if (!Number.isFinite(ms) || ms <= 0) return null;
  return Math.max(0, Math.round((now - ms) / 1000));
}

/** A process start time (epoch seconds) as "MM-DD HH:mm", with the year when not this year. */
export function formatStartTime(epochSeconds: number | null | undefined, now = Date.now()): string {
  if (!epochSeconds || !Number.isFinite(epochSeconds)) return '–';
  const t = dayjs(epochSeconds * 1000);
  return t.year() === dayjs(now).year() ? t.format('MM-DD HH:mm') : t.format('YYYY-MM-DD HH:mm');
}

/** Full local date and time, for tooltips. */
export function formatDateTime(time: string | number | null | undefined): string {
  if (time == null || time === '') return '–';
  const t = typeof time === 'number' ? dayjs(time * 1000) : dayjs(time);
  return t.isValid() ? t.format('YYYY-MM-DD HH:mm:ss') : '–';
}
