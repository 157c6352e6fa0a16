// Splitting a newline-delimited JSON stream (GET /api/v1/watch) into events.
import type { WatchResponse } from '../api/types';

/** Feeds text chunks, returns complete lines; keeps the unfinished tail. */
export class LineSplitter {
  private tail = '';
  push(chunk: string): string[] {
    const text = this.tail + chunk;
    const lines = text.split('\n');
    this.tail = lines.pop() ?? '';
    return lines.map((l) => l.trim()).filter(Boolean);
  }
}

/**
 * One line as a WatchResponse. grpc-gateway wraps stream messages as
 * {"result": …} (and failures as {"error": …}); a bare message is accepted too.
 */
export function parseWatchLine(line: string): WatchResponse | { error: string } | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  if (o.error) {
    const e = o.error as Record<string, unknown>;
    return { error: String(e.message ?? 'watch failed') };
  }
  if (o.result && typeof o.result === 'object') return o.result as WatchResponse;
  if ('type' in o || 'machine' in o) return o as WatchResponse;
  return null;
}
