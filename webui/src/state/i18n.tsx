import { useCallback } from 'react';
import { en, format, zh, type MessageKey } from './messages';
import { resolveLanguage } from './settings';
import { useSettings } from './SettingsContext';

export type T = (key: MessageKey, vars?: Record<string, string | number>) => string;

export function translate(lang: 'en' | 'zh', key: MessageKey, vars?: Record<string, string | number>): string {
  return format((lang === 'zh' ? zh : en)[key] ?? en[key] ?? key, vars);
}

/** The current language and a translate function. */
export function useI18n(): { lang: 'en' | 'zh'; t: T } {
  const { settings } = useSettings();
  const lang = resolveLanguage(settings.language);
  const t = useCallback<T>((key, vars) => translate(lang, key, vars), [lang]);
  return { lang, t };
}
