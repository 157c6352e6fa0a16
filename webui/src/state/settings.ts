import { validSshPattern } from '../lib/commands';

// Settings kept in localStorage: where the hub is, how often to refresh, the
// tokens, and how the page looks.
export type ViewMode = 'list' | 'window';
export type Language = 'auto' | 'en' | 'zh';
export type ThemeMode = 'system' | 'light' | 'dark';
export type Density = 'comfortable' | 'compact';

export interface Settings {
  /** Base URL of the hub; empty means the page's own origin. */
  apiBase: string;
  /** Seconds between refreshes when not live (at least 1). */
  refreshSeconds: number;
  defaultView: ViewMode;
  apiToken: string;
  adminToken: string;
  language: Language;
  theme: ThemeMode;
  density: Density;
  /** Follow GET /api/v1/watch for live updates (else poll). */
  live: boolean;
  /** "My processes": the user name to filter by. */
  myUser: string;
  /** GPU cards list only Python processes (by default every process, Python jobs first). */
  pythonOnly: boolean;
  /**
   * Where copied commands ssh to: a pattern with {host}, {ip} or {key}
   * ("alice@{host}.lab"); empty copies the bare command.
   */
  sshPattern: string;
}

export const DEFAULT_SETTINGS: Settings = {
  apiBase: '',
  refreshSeconds: 5,
  defaultView: 'list',
  apiToken: '',
  adminToken: '',
  language: 'auto',
  theme: 'system',
  density: 'comfortable',
  live: true,
  myUser: '',
  pythonOnly: false,
  sshPattern: '{host}',
};

export const SETTINGS_KEY = 'gpumon.settings';

const pick = <T extends string>(v: unknown, allowed: readonly T[], fallback: T): T =>
  typeof v === 'string' && (allowed as readonly string[]).includes(v) ? (v as T) : fallback;

/** Validates stored (possibly old or hand-edited) settings, filling defaults. */
export function normalizeSettings(raw: unknown): Settings {
  const o = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const d = DEFAULT_SETTINGS;
  const refresh = Number(o.refreshSeconds);
  return {
    apiBase: typeof o.apiBase === 'string' ? o.apiBase.trim().replace(/\/+$/, '') : d.apiBase,
    refreshSeconds: Number.isFinite(refresh) && refresh >= 1 ? Math.min(3600, refresh) : d.refreshSeconds,
    defaultView: pick(o.defaultView, ['list', 'window'] as const, d.defaultView),
    apiToken: typeof o.apiToken === 'string' ? o.apiToken.trim() : '',
    adminToken: typeof o.adminToken === 'string' ? o.adminToken.trim() : '',
    language: pick(o.language, ['auto', 'en', 'zh'] as const, d.language),
    theme: pick(o.theme, ['system', 'light', 'dark'] as const, d.theme),
    density: pick(o.density, ['comfortable', 'compact'] as const, d.density),
    live: typeof o.live === 'boolean' ? o.live : d.live,
    myUser: typeof o.myUser === 'string' ? o.myUser.trim() : '',
    pythonOnly: typeof o.pythonOnly === 'boolean' ? o.pythonOnly : d.pythonOnly,
    sshPattern: typeof o.sshPattern === 'string' && validSshPattern(o.sshPattern.trim()) ? o.sshPattern.trim() : d.sshPattern,
  };
}

export function loadSettings(storage: Storage | undefined = globalThis.localStorage): Settings {
  try {
    const text = storage?.getItem(SETTINGS_KEY);
    return normalizeSettings(text ? JSON.parse(text) : {});
  } catch {
    return { ...DEFAULT_SETTINGS };
  }
}

export function saveSettings(s: Settings, storage: Storage | undefined = globalThis.localStorage): void {
  try {
    storage?.setItem(SETTINGS_KEY, JSON.stringify(s));
  } catch {
    // storage full or disabled: settings last for this page only
  }
}

/** The language to show: the setting, else the browser's. */
export function resolveLanguage(l: Language, browser: readonly string[] = globalThis.navigator?.languages ?? []): 'en' | 'zh' {
  if (l !== 'auto') return l;
  return browser.some((x) => x.toLowerCase().startsWith('zh')) && !browser[0]?.toLowerCase().startsWith('en') ? 'zh' : 'en';
}
