/**
 * The colour theme: the system's (default), light or dark, remembered in this browser. public/theme.js
 * applies the stored choice before the first paint (a file of this origin, so the page's
 * Content-Security-Policy runs it without an inline script); this module changes it afterwards.
 */
import { useSyncExternalStore } from 'react';

export const THEMES = ['system', 'light', 'dark'] as const;
export type ThemeChoice = (typeof THEMES)[number];
/** Kept in step with public/theme.js. */
export const THEME_STORAGE_KEY = 'aria2c.theme';
const DARK_QUERY = '(prefers-color-scheme: dark)';

const listeners = new Set<() => void>();

export function themeChoice(): ThemeChoice {
  if (typeof document === 'undefined') return 'system';
  const set = document.documentElement.dataset.theme;
  return set === 'light' || set === 'dark' ? set : 'system';
}

export function applyTheme(choice: ThemeChoice): void {
  const root = document.documentElement;
  if (choice === 'system') delete root.dataset.theme;
  else root.dataset.theme = choice;
  try {
    if (choice === 'system') window.localStorage.removeItem(THEME_STORAGE_KEY);
    else window.localStorage.setItem(THEME_STORAGE_KEY, choice);
  } catch {
    // not remembered; still switched for this page
  }
  for (const l of listeners) l();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  const media = window.matchMedia(DARK_QUERY);
  media.addEventListener('change', listener);
  return () => {
    listeners.delete(listener);
    media.removeEventListener('change', listener);
  };
}

/** The reader's choice (re-rendered when it changes). */
export function useThemeChoice(): ThemeChoice {
  return useSyncExternalStore(subscribe, themeChoice, () => 'system');
}

/** The theme the page shows: the choice, or the system's when the choice is "system". */
export function useResolvedTheme(): 'light' | 'dark' {
  return useSyncExternalStore(
    subscribe,
    () => {
      const choice = themeChoice();
      if (choice !== 'system') return choice;
      return window.matchMedia(DARK_QUERY).matches ? 'dark' : 'light';
    },
    () => 'light',
  );
}
