import '@testing-library/jest-dom/vitest';
import { afterEach } from 'vitest';
import { cleanup } from '@testing-library/react';

afterEach(() => cleanup());

// Pure helpers run in node; everything below is for jsdom only.
if (typeof window !== 'undefined') {
  // Ant Design reads media queries (responsive grid, Table) that jsdom lacks:
  // widths are answered for jsdom's window (1024 px), anything else is false.
  const matches = (query: string) => {
    const parts = [...query.matchAll(/\((min|max)-width:\s*([\d.]+)px\)/g)];
    return parts.length > 0 && parts.every(([, side, px]) => (side === 'min' ? window.innerWidth >= Number(px) : window.innerWidth <= Number(px)));
  };
  if (!window.matchMedia) {
    Object.defineProperty(window, 'matchMedia', {
      writable: true,
      value: (query: string) => ({
        matches: matches(query),
        media: query,
        onchange: null,
        addListener: () => {},
        removeListener: () => {},
        addEventListener: () => {},
        removeEventListener: () => {},
        dispatchEvent: () => false,
      }),
    });
  }
  if (!(window as unknown as { ResizeObserver?: unknown }).ResizeObserver) {
    (window as unknown as { ResizeObserver: unknown }).ResizeObserver = class {
      observe() {}
      unobserve() {}
      disconnect() {}
    };
  }
}
