'use client';

import { createContext, type ReactNode, useContext, useEffect, useState } from 'react';
import { applyLanguage, DEFAULT_LANGUAGE, type Language, preferredLanguage } from '../../lib/i18n';

const LanguageContext = createContext<{ language: Language; setLanguage: (l: Language) => void }>({
  language: DEFAULT_LANGUAGE,
  setLanguage: () => {},
});

export const useLanguage = () => useContext(LanguageContext);

/**
 * The page's language. The export is rendered in English; after hydration the reader's language is
 * applied, and a change re-mounts the tree below so every sentence (also those computed outside React)
 * is read again from the catalog. Cached data (React Query) lives above and survives.
 */
export function LanguageProvider({ children }: { children: ReactNode }) {
  const [language, setLanguage] = useState<Language>(DEFAULT_LANGUAGE);
  useEffect(() => {
    const lang = preferredLanguage();
    applyLanguage(lang, false);
    setLanguage(lang);
  }, []);
  return (
    <LanguageContext.Provider value={{ language, setLanguage }}>
      <div key={language} style={{ display: 'contents' }}>
        {children}
      </div>
    </LanguageContext.Provider>
  );
}
