'use client';

import { t } from '../../lib/i18n';
import { applyTheme, THEMES, type ThemeChoice, useThemeChoice } from '../../lib/theme';

const LABELS: Record<ThemeChoice, string> = {
  system: 'shell.theme.system',
  light: 'shell.theme.light',
  dark: 'shell.theme.dark',
};

/** The header's theme choice: the system's, light or dark; remembered in this browser. */
export function ThemeSwitch() {
  const choice = useThemeChoice();
  return (
    <select
      className="lang-switch theme-switch"
      aria-label={t('shell.theme.label')}
      title={t('shell.theme.label')}
      value={choice}
      onChange={(e) => applyTheme(e.currentTarget.value as ThemeChoice)}
    >
      {THEMES.map((theme) => (
        <option key={theme} value={theme}>
          {t(LABELS[theme])}
        </option>
      ))}
    </select>
  );
}
