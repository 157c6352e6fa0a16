// The machine list, requested by index.html's inline script while the bundle
// is still loading, so the first render already has the fleet to show.
import type { ClientConfig } from './client';
import { apiUrl } from './client';
import type { ListMachinesResponse } from './types';

/** The list the first render needs; index.html asks for the same path. */
export const MACHINES_PATH = '/api/v1/machines';

/** What the inline script leaves on window (see index.html). */
export interface EarlyRequest {
  url: string;
  token: string;
  response: Promise<{ status: number; text: string }>;
}

declare global {
  interface Window {
    __gpumonEarly?: EarlyRequest;
  }
}

/**
 * The early machine list, if the inline script asked for the same URL with the
 * same token, it succeeded and it arrives within waitMs. Taken once: any
 * failure, mismatch or delay leaves the page to fetch as it always does, so
 * errors (401, hub down) are reported by the normal path.
 */
export async function takeEarlyMachines(cfg: ClientConfig, waitMs: number): Promise<ListMachinesResponse | undefined> {
  const early = typeof window !== 'undefined' ? window.__gpumonEarly : undefined;
  if (!early) return undefined;
  delete window.__gpumonEarly;
  if (early.url !== apiUrl(cfg.apiBase, MACHINES_PATH) || early.token !== cfg.apiToken) return undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), waitMs);
  });
  try {
    const r = await Promise.race([early.response, late]);
    if (!r || r.status !== 200) return undefined;
    const body = JSON.parse(r.text) as ListMachinesResponse;
    return body && typeof body === 'object' && Array.isArray(body.machines) ? body : undefined;
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}
