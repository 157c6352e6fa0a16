import { useEffect } from 'react';

/**
 * Names the browser tab after what the page shows, most specific first:
 * "gpu-a · History · gpumon". Empty parts are left out.
 */
export function usePageTitle(...parts: (string | null | undefined | false)[]) {
  const title = [...parts, 'gpumon'].filter(Boolean).join(' · ');
  useEffect(() => {
    document.title = title;
  }, [title]);
}
