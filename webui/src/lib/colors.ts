// Colours derived from data: a stable colour per machine, and threshold
// colours for temperature and usage.

/** 32-bit FNV-1a hash of a string. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Hues a machine's identity colour may take: cyan, blue, indigo and violet.
 * The status colours (red, orange, yellow, green; pink reads as red) are
 * kept out, so that a machine's colour never looks like an alarm or "online".
 */
export const IDENTITY_HUES = { from: 180, to: 285 } as const;

/** The same hostname always gets the same colour (an HSL string), muted and away from the status colours. */
export function hostColor(hostname: string): string {
  const h = hashString(hostname);
  const hue = IDENTITY_HUES.from + (h % (IDENTITY_HUES.to - IDENTITY_HUES.from + 1));
  const sat = 30 + ((h >>> 9) % 25);
  const light = 40 + ((h >>> 17) % 21);
  return `hsl(${hue}, ${sat}%, ${light}%)`;
}

export type Level = 'ok' | 'warn' | 'hot' | 'unknown';

/** Temperature level in degrees Celsius: < 70 ok, < 83 warn, else hot. */
export function temperatureLevel(celsius: number | null | undefined): Level {
  if (celsius == null || !Number.isFinite(celsius)) return 'unknown';
  if (celsius < 70) return 'ok';
  if (celsius < 83) return 'warn';
  return 'hot';
}

/** Usage level in percent: < 70 ok, < 90 warn, else hot. */
export function usageLevel(percent: number | null | undefined): Level {
  if (percent == null || !Number.isFinite(percent)) return 'unknown';
  if (percent < 70) return 'ok';
  if (percent < 90) return 'warn';
  return 'hot';
}

/** Ant Design preset colour names for a level (Tag / Progress). */
export const LEVEL_TAG_COLOR: Record<Level, 'green' | 'orange' | 'red' | 'default'> = {
  ok: 'green',
  warn: 'orange',
  hot: 'red',
  unknown: 'default',
};

export const LEVEL_STROKE: Record<Level, string | undefined> = {
  ok: undefined,
  warn: '#fa8c16',
  hot: '#f5222d',
  unknown: undefined,
};
