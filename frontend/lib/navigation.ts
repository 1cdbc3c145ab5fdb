/** Where the login page sends the user back to: a same-origin path only (no open redirect). */
export function safeNextPath(raw: string | null | undefined, fallback = '/tasks'): string {
  if (!raw) return fallback;
  if (!raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\')) return fallback;
  if (raw === '/login' || raw.startsWith('/login?') || raw.startsWith('/login/')) return fallback;
  if (raw === '/') return fallback;
  return raw;
}

/** The login page, remembering the page to come back to. */
export function loginUrl(next: string): string {
  const target = safeNextPath(next, '');
  return target ? `/login?next=${encodeURIComponent(target)}` : '/login';
}
