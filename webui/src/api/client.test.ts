// @vitest-environment node
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, apiFetch, apiUrl, errorMessage } from './client';

const cfg = { apiBase: 'http://hub:7864/', apiToken: 'read-token' };

afterEach(() => vi.unstubAllGlobals());

describe('apiFetch', () => {
  it('builds URLs without empty parameters', () => {
    expect(apiUrl('', '/api/v1/free-gpus', { min_free_memory: 0, idle: false, x: '' })).toBe('/api/v1/free-gpus?min_free_memory=0&idle=false');
    expect(apiUrl('http://hub/', '/api/v1/machines')).toBe('http://hub/api/v1/machines');
  });

  it('sends the bearer token and parses JSON', async () => {
    const fetchMock = vi.fn(async () => new Response('{"machines":[]}', { status: 200 }));
    vi.stubGlobal('fetch', fetchMock);
    await expect(apiFetch(cfg, '/api/v1/machines')).resolves.toEqual({ machines: [] });
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('http://hub:7864/api/v1/machines');
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer read-token');
  });

  it('normalises the documented error body', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{"status":"error","message":"missing or invalid token"}', { status: 401 })));
    await expect(apiFetch(cfg, '/x')).rejects.toEqual(new ApiError(401, 'missing or invalid token'));
  });

  it('reports an unreachable hub as status 0', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => { throw new TypeError('Failed to fetch'); }));
    const err = (await apiFetch(cfg, "/x").catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(0);
  });

  it('never shows an HTML page as a message', () => {
    expect(errorMessage(502, '<html><body>Bad gateway</body></html>')).toBe('HTTP 502');
    expect(errorMessage(501, 'not implemented')).toBe('not implemented');
    expect(errorMessage(404, '{"code":5,"message":"machine not found"}')).toBe('machine not found');
  });
});
