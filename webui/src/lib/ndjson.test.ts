// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { LineSplitter, parseWatchLine } from './ndjson';

describe('ndjson', () => {
  it('splits chunks into whole lines', () => {
    const s = new LineSplitter();
    expect(s.push('{"a":1}\n{"b"')).toEqual(['{"a":1}']);
    expect(s.push(':2}\n\n')).toEqual(['{"b":2}']);
    expect(s.push('')).toEqual([]);
  });
  it('unwraps grpc-gateway stream results and accepts bare messages', () => {
    expect(parseWatchLine('{"result":{"type":"WATCH_EVENT_TYPE_SAMPLE","machine":{"key":"a"}}}')).toMatchObject({ type: 'WATCH_EVENT_TYPE_SAMPLE', machine: { key: 'a' } });
    expect(parseWatchLine('{"type":"WATCH_EVENT_TYPE_HEARTBEAT"}')).toMatchObject({ type: 'WATCH_EVENT_TYPE_HEARTBEAT' });
    expect(parseWatchLine('{"error":{"code":16,"message":"unauthenticated"}}')).toEqual({ error: 'unauthenticated' });
    expect(parseWatchLine('not json')).toBeNull();
    expect(parseWatchLine('[1]')).toBeNull();
  });
});
