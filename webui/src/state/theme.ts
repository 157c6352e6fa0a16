import { useSyncExternalStore } from 'react';
import { useSettings } from './SettingsContext';

const darkQuery = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;

function usePrefersDark(): boolean {
  return useSyncExternalStore(
    (cb) => {
      darkQuery?.addEventListener?.('change', cb);
      return () => darkQuery?.removeEventListener?.('change', cb);
    },
    () => !!darkQuery?.matches,
  );
}

/** Whether the page shows the dark theme: the setting, or the system's when it says "system". */
export function useDark(): boolean {
  const { settings } = useSettings();
  const prefersDark = usePrefersDark();
  return settings.theme === 'dark' || (settings.theme === 'system' && prefersDark);
}
