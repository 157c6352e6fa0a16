import { useCallback } from 'react';
import { useSearchParams } from 'react-router';

/**
 * A page's state kept in its address (filters, order, tab): the parameters,
 * and a function that changes some of them (null or '' removes one). It
 * replaces the history entry unless told to push one.
 */
export function useUrlState(): [URLSearchParams, (patch: Record<string, string | null>, push?: boolean) => void] {
  const [params, setParams] = useSearchParams();
  const set = useCallback(
    (patch: Record<string, string | null>, push = false) =>
      setParams(
        (p) => {
          const n = new URLSearchParams(p);
          for (const [k, v] of Object.entries(patch)) {
            if (v == null || v === '') n.delete(k);
            else n.set(k, v);
          }
          return n;
        },
        { replace: !push },
      ),
    [setParams],
  );
  return [params, set];
}
