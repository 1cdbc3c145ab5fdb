/**
 * The UI's languages: English and Simplified Chinese, catalogs in frontend/locales/ (keys grouped by
 * feature). The static export is rendered in English; the browser then switches to the reader's
 * language (a choice kept in localStorage, else the browser's language: zh* reads Chinese).
 */
import i18next from 'i18next';
import en from '../locales/en.json';
import zh from '../locales/zh.json';

export const LANGUAGES = ['en', 'zh'] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = 'en';
const STORAGE_KEY = 'aria2c.lang';

export const catalogs: Record<Language, Record<string, unknown>> = { en, zh };

void i18next.init({
  lng: DEFAULT_LANGUAGE,
  fallbackLng: DEFAULT_LANGUAGE,
  supportedLngs: [...LANGUAGES],
  resources: { en: { translation: en }, zh: { translation: zh } },
  // Resources are bundled: ready on import, so `t` works in the first render and in tests.
  initAsync: false,
  // React escapes what it renders.
  interpolation: { escapeValue: false },
  returnNull: false,
});

export const i18n = i18next;

/** A catalog sentence; `t('tasks.title')`, `t('tasks.count', { count })`. */
export function t(key: string, values?: Record<string, unknown>): string {
  return i18next.t(key, values ?? {}) as string;
}

export function currentLanguage(): Language {
  return i18next.language === 'zh' ? 'zh' : 'en';
}

/** The Intl locale of the current language (for dates and numbers). */
export function intlLocale(): string {
  return currentLanguage() === 'zh' ? 'zh-CN' : 'en-US';
}

/** The reader's language: their stored choice, else the browser's. */
export function preferredLanguage(): Language {
  try {
    const stored = window.localStorage.getItem(STORAGE_KEY);
    if (stored === 'en' || stored === 'zh') return stored;
  } catch {
    // storage blocked: fall through to the browser's language
  }
  const langs = navigator.languages?.length ? navigator.languages : [navigator.language];
  return langs[0]?.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

export function applyLanguage(lang: Language, remember: boolean): void {
  void i18next.changeLanguage(lang);
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  if (!remember) return;
  try {
    window.localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // not remembered; still switched for this page
  }
}
