// The one fetch wrapper: builds the URL from the API address, adds the token,
// and turns every failure into an ApiError {status, message}.

/** status 0: no answer (network error, hub down, CORS). */
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

export interface ClientConfig {
  apiBase: string;
  apiToken: string;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'DELETE';
  body?: unknown;
  /** Overrides the API token (e.g. the admin token for kill). */
  token?: string;
  signal?: AbortSignal;
  query?: Record<string, string | number | boolean | undefined | null>;
}

export function apiUrl(base: string, path: string, query?: RequestOptions['query']): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const qs = q.toString();
  return `${base.replace(/\/+$/, '')}${path}${qs ? `?${qs}` : ''}`;
}

export function authHeaders(token: string): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** The message of an error body: the documented {"status":"error","message"}, grpc-gateway's {"message"}, or text. */
export function errorMessage(status: number, text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown; error?: unknown };
    if (typeof body.message === 'string' && body.message) return body.message;
    if (typeof body.error === 'string' && body.error) return body.error;
  } catch {
    // not JSON
  }
  const plain = text.trim();
  if (plain && !plain.startsWith('<') && plain.length < 300) return plain;
  return `HTTP ${status}`;
}

export async function apiFetch<T>(cfg: ClientConfig, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...authHeaders(opts.token ?? cfg.apiToken) };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(apiUrl(cfg.apiBase, path, opts.query), {
      method: opts.method ?? 'GET',
      headers,
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
      signal: opts.signal,
    });
  } catch (e) {
    if ((e as Error)?.name === 'AbortError') throw e;
    throw new ApiError(0, 'hub unreachable');
  }
  const text = await res.text().catch(() => '');
  if (!res.ok) throw new ApiError(res.status, errorMessage(res.status, text));
  if (!text) return {} as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(res.status, 'the hub sent something that is not JSON');
  }
}
