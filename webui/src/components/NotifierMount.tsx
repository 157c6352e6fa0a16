import { lazy, Suspense, useSyncExternalStore } from 'react';
import { NOTIFY_EVENT, NOTIFY_KEY } from '../state/notifyKeys';

const AlertNotifier = lazy(() => import('./AlertNotifier'));

function hasPrefs(): boolean {
  try {
    return globalThis.localStorage?.getItem(NOTIFY_KEY) != null;
  } catch {
    return false;
  }
}

function subscribe(fn: () => void) {
  const onStorage = (e: StorageEvent) => e.key === NOTIFY_KEY && fn();
  globalThis.addEventListener?.('storage', onStorage);
  globalThis.addEventListener?.(NOTIFY_EVENT, fn);
  return () => {
    globalThis.removeEventListener?.('storage', onStorage);
    globalThis.removeEventListener?.(NOTIFY_EVENT, fn);
  };
}

/** Loads the notifier once the user has set notification preferences (on the alerts view). */
export function NotifierMount() {
  const wanted = useSyncExternalStore(subscribe, hasPrefs, () => false);
  if (!wanted) return null;
  return (
    <Suspense fallback={null}>
      <AlertNotifier />
    </Suspense>
  );
}
