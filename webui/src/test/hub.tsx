import { QueryClient } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import { vi } from 'vitest';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { Providers, routes } from '../App';
import { DEFAULT_SETTINGS, type Settings } from '../state/settings';

/** Answers the page's requests with handler(path, query); returns the fetch mock. */
export function stubHub(handler: (path: string, query: URLSearchParams) => { status?: number; body: unknown }) {
  const fetch = vi.fn(async (url: string) => {
    const u = new URL(url, 'http://x');
    const { status = 200, body } = handler(u.pathname, u.searchParams);
    return new Response(JSON.stringify(body), { status });
  });
  vi.stubGlobal('fetch', fetch);
  return fetch;
}

/** The whole app at path (English, no live stream). */
export function renderAt(path: string, settings: Partial<Settings> = {}) {
  localStorage.clear();
  const router = createMemoryRouter(routes, { initialEntries: [path] });
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <Providers client={client} initialSettings={{ ...DEFAULT_SETTINGS, language: 'en', live: false, ...settings }}>
      <RouterProvider router={router} />
    </Providers>,
  );
}
