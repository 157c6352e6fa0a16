// Containers report their GPUs as a JSON-encoded string ("[0,1]"), Docker's
// own spelling ("[0 1]"), a list, or "all". Parse every form without throwing.

export type GpuDevices = { kind: 'none' } | { kind: 'all' } | { kind: 'list'; ids: number[] } | { kind: 'text'; text: string };

export function parseGpuDevices(value: unknown, ids?: readonly number[] | null): GpuDevices {
  if (ids && ids.length > 0) return { kind: 'list', ids: [...ids] };
  if (value == null) return { kind: 'none' };
  if (Array.isArray(value)) {
    const list = value.map((v) => Number(v)).filter((n) => Number.isInteger(n) && n >= 0);
    return list.length ? { kind: 'list', ids: list } : { kind: 'none' };
  }
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? { kind: 'list', ids: [value] } : { kind: 'none' };
  if (typeof value !== 'string') return { kind: 'none' };
  const s = value.trim();
  if (s === '' || s === '[]' || s === 'null' || s === 'None') return { kind: 'none' };
  if (/^all$/i.test(s) || /^\[\s*"?all"?\s*\]$/i.test(s)) return { kind: 'all' };
  const inner = s.replace(/^\[/, '').replace(/\]$/, '').trim();
  if (inner === '') return { kind: 'none' };
  const parts = inner.split(/[\s,]+/).filter(Boolean).map((p) => p.replace(/^"|"$/g, ''));
  if (parts.every((p) => /^\d+$/.test(p))) return { kind: 'list', ids: parts.map(Number) };
  return { kind: 'text', text: s };
}

/** "0, 1" / "all" / "–" / the raw text. */
export function formatGpuDevices(d: GpuDevices): string {
  switch (d.kind) {
    case 'none':
      return '–';
    case 'all':
      return 'all';
    case 'list':
      return d.ids.join(', ');
    case 'text':
      return d.text;
  }
}
