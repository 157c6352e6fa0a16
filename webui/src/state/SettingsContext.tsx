import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { loadSettings, normalizeSettings, saveSettings, type Settings } from './settings';

interface SettingsValue {
  settings: Settings;
  update: (patch: Partial<Settings>) => void;
  /** Whether the settings dialog is open (any page may open it). */
  open: boolean;
  setOpen: (open: boolean) => void;
}

const Ctx = createContext<SettingsValue | null>(null);

export function SettingsProvider({ children, initial }: { children: ReactNode; initial?: Settings }) {
  const [settings, setSettings] = useState<Settings>(() => initial ?? loadSettings());
  const [open, setOpen] = useState(false);
  const update = useCallback((patch: Partial<Settings>) => {
    setSettings((s) => {
      const next = normalizeSettings({ ...s, ...patch });
      saveSettings(next);
      return next;
    });
  }, []);
  // Another tab changed the settings.
  useEffect(() => {
    const onStorage = () => setSettings(loadSettings());
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, []);
  const value = useMemo(() => ({ settings, update, open, setOpen }), [settings, update, open]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSettings(): SettingsValue {
  const v = useContext(Ctx);
  if (!v) throw new Error('useSettings outside SettingsProvider');
  return v;
}
