import { QueryClient } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { MemoryRouter } from 'react-router';
import { Providers } from '../App';
import { DEFAULT_SETTINGS, type Settings } from '../state/settings';

/** Renders inside the app's providers (English, no live stream) and a router. */
export function renderWithApp(ui: ReactElement, settings: Partial<Settings> = {}) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <Providers client={client} initialSettings={{ ...DEFAULT_SETTINGS, language: 'en', live: false, ...settings }}>
      <MemoryRouter>{ui}</MemoryRouter>
    </Providers>,
  );
}
