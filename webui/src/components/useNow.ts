import { useSyncExternalStore } from 'react';

// One shared 1 s clock: only the components that show a relative time re-render.
let now = Date.now();
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | undefined;

function subscribe(cb: () => void) {
  listeners.add(cb);
  if (!timer) {
    timer = setInterval(() => {
      now = Date.now();
      listeners.forEach((l) => l());
    }, 1000);
  }
  return () => {
    listeners.delete(cb);
    if (!listeners.size && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

/** The time now, updated every second. */
export function useNow(): number {
  return useSyncExternalStore(subscribe, () => now, () => now);
}

/** The time now rounded down to `ms`: re-renders only every `ms`. */
export function useCoarseNow(ms: number): number {
  return useSyncExternalStore(
    subscribe,
    () => Math.floor(now / ms) * ms,
    () => Math.floor(now / ms) * ms,
  );
}
