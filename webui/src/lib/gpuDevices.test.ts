// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { formatGpuDevices, parseGpuDevices } from './gpuDevices';

describe('parseGpuDevices', () => {
  it.each([
    ['[0,1]', '0, 1'],
    ['[0 1]', '0, 1'],
    ['[0, 1, 3]', '0, 1, 3'],
    ['["0","2"]', '0, 2'],
    ['[]', '–'],
    ['', '–'],
    ['all', 'all'],
    ['[all]', 'all'],
    ['GPU-8a3b', 'GPU-8a3b'],
  ])('%j → %s', (input, want) => expect(formatGpuDevices(parseGpuDevices(input))).toBe(want));

  it('accepts lists, numbers and nothing', () => {
    expect(parseGpuDevices([0, 1])).toEqual({ kind: 'list', ids: [0, 1] });
    expect(parseGpuDevices(2)).toEqual({ kind: 'list', ids: [2] });
    expect(parseGpuDevices(null)).toEqual({ kind: 'none' });
    expect(parseGpuDevices(undefined)).toEqual({ kind: 'none' });
    expect(parseGpuDevices({})).toEqual({ kind: 'none' });
  });

  it('prefers the parsed gpu_ids list when present', () => {
    expect(parseGpuDevices('[0 1]', [2, 3])).toEqual({ kind: 'list', ids: [2, 3] });
    expect(parseGpuDevices('[0 1]', [])).toEqual({ kind: 'list', ids: [0, 1] });
  });
});
