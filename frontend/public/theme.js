// The stored colour theme, applied before the first paint (see lib/theme.ts); no choice follows the system.
(() => {
  try {
    const theme = window.localStorage.getItem('aria2c.theme');
    if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme;
  } catch {
    // storage blocked: the system's theme
  }
})();
