// Browser notifications the user asked for, kept in localStorage apart from
// the settings: "a GPU matching my filter is free" and "an alert on a
// machine I pinned". Off until the user turns them on (and the browser
// allows notifications).
import { useCallback, useSyncExternalStore } from 'react';
import { NOTIFY_EVENT, NOTIFY_KEY } from './notifyKeys';

export interface FreeFilter {
  /** GiB of free memory at least (0: any). */
  minFreeGiB: number;
  /** Utilisation at most, percent; undefined: the hub's default. */
  maxUtil?: number;
  /** Share of the memory free at least, percent; undefined: the hub's default. */
  minFreePercent?: number;
  shared: boolean;
  idle: boolean;
}

export interface NotifyPrefs {
  /** Notify when a GPU matching freeFilter becomes free. */
  freeGpus: boolean;
  freeFilter: FreeFilter;
  /** Notify when an alert starts firing on a pinned machine. */
  pinnedAlerts: boolean;
  /** Machine keys. */
  pinned: string[];
}

export { NOTIFY_KEY } from './notifyKeys';

export const DEFAULT_NOTIFY: NotifyPrefs = {
  freeGpus: false,
  freeFilter: { minFreeGiB: 0, shared: false, idle: false },
  pinnedAlerts: false,
  pinned: [],
};

const pct = (v: unknown): number | undefined => {
  const n = Number(v);
  return v == null || v === '' || !Number.isFinite(n) ? undefined : Math.min(100, Math.max(0, Math.round(n)));
};

/** Validates stored (possibly old or hand-edited) preferences. */
export function normalizeNotify(raw: unknown): NotifyPrefs {
  const o = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const f = o.freeFilter && typeof o.freeFilter === 'object' ? (o.freeFilter as Record<string, unknown>) : {};
  const gib = Number(f.minFreeGiB);
  return {
    freeGpus: o.freeGpus === true,
    freeFilter: {
      minFreeGiB: Number.isFinite(gib) && gib > 0 ? Math.min(4096, gib) : 0,
      maxUtil: pct(f.maxUtil),
      minFreePercent: pct(f.minFreePercent),
      shared: f.shared === true,
      idle: f.idle === true,
    },
    pinnedAlerts: o.pinnedAlerts === true,
    pinned: Array.isArray(o.pinned) ? [...new Set(o.pinned.filter((k): k is string => typeof k === 'string' && k !== ''))].slice(0, 200) : [],
  };
}

const listeners = new Set<() => void>();
let cached: { text: string | null; prefs: NotifyPrefs } | undefined;

function read(): NotifyPrefs {
  let text: string | null = null;
  try {
    text = globalThis.localStorage?.getItem(NOTIFY_KEY) ?? null;
  } catch {
    // storage disabled
  }
  if (cached?.text !== text) {
    let parsed: unknown = {};
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      // a hand-edited value that is not JSON: the defaults
    }
    cached = { text, prefs: normalizeNotify(parsed) };
  }
  return cached.prefs;
}

function subscribe(fn: () => void) {
  listeners.add(fn);
  const onStorage = (e: StorageEvent) => e.key === NOTIFY_KEY && fn();
  globalThis.addEventListener?.('storage', onStorage);
  return () => {
    listeners.delete(fn);
    globalThis.removeEventListener?.('storage', onStorage);
  };
}

/** The preferences and a function that changes them (kept in localStorage, shared by every component and tab). */
export function useNotifyPrefs(): [NotifyPrefs, (change: Partial<NotifyPrefs>) => void] {
  const prefs = useSyncExternalStore(subscribe, read, read);
  const update = useCallback((change: Partial<NotifyPrefs>) => {
    const next = normalizeNotify({ ...read(), ...change });
    try {
      globalThis.localStorage?.setItem(NOTIFY_KEY, JSON.stringify(next));
    } catch {
      // storage full or disabled
    }
    cached = undefined;
    for (const fn of listeners) fn();
    globalThis.dispatchEvent?.(new Event(NOTIFY_EVENT));
  }, []);
  return [prefs, update];
}

/** What the browser says about notifications for this page. */
export type Permission = 'unsupported' | 'default' | 'granted' | 'denied';

export function permission(): Permission {
  if (typeof globalThis.Notification === 'undefined') return 'unsupported';
  return globalThis.Notification.permission as Permission;
}
