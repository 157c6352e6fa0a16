import { useCallback } from 'react';
import { translate, type Lang, type MessageKey, type Vars } from './messages';
import { resolveLanguage } from './settings';
import { useSettings } from './SettingsContext';

export { translate };

export type T = (key: MessageKey, vars?: Vars) => string;

/** Translate into English: for helpers called without a language. */
export const tEnglish: T = (key, vars) => translate('en', key, vars);

/** The current language and a translate function. */
export function useI18n(): { lang: Lang; t: T } {
  const { settings } = useSettings();
  const lang = resolveLanguage(settings.language);
  const t = useCallback<T>((key, vars) => translate(lang, key, vars), [lang]);
  return { lang, t };
}
