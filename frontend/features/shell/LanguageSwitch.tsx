'use client';

import { applyLanguage, currentLanguage, LANGUAGES, type Language, t } from '../../lib/i18n';
import { useLanguage } from './language';

/** Names of the languages in themselves: a reader finds their own whatever the page is in. */
const NATIVE: Record<Language, string> = { en: 'English', zh: '简体中文' };

/** The header's language choice; remembered in this browser. */
export function LanguageSwitch() {
  const { setLanguage } = useLanguage();
  return (
    <select
      className="lang-switch"
      aria-label={t('language.label')}
      title={t('language.label')}
      value={currentLanguage()}
      onChange={(e) => {
        const lang = e.currentTarget.value as Language;
        applyLanguage(lang, true);
        setLanguage(lang);
      }}
    >
      {LANGUAGES.map((l) => (
        <option key={l} value={l} lang={l === 'zh' ? 'zh-CN' : 'en'}>
          {NATIVE[l]}
        </option>
      ))}
    </select>
  );
}
