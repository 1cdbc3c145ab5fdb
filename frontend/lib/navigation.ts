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

/** A list page's view as its URL keeps it (`?status=error&sort=name&order=asc&q=iso`). */
export interface ListQuery<S extends string, K extends string> {
  status: S;
  sort: K;
  order: 'asc' | 'desc';
  q: string;
}

/**
 * Reads a list's view from the query string; a missing or unknown value reads as its default, so a
 * hand-edited or old link still opens a list.
 */
export function readListQuery<S extends string, K extends string>(
  params: Pick<URLSearchParams, 'get'>,
  defaults: ListQuery<S, K>,
  allowed: { status: readonly S[]; sort: readonly K[] },
): ListQuery<S, K> {
  const pick = <T extends string>(raw: string | null, values: readonly T[], fallback: T): T =>
    raw !== null && (values as readonly string[]).includes(raw) ? (raw as T) : fallback;
  return {
    status: pick(params.get('status'), allowed.status, defaults.status),
    sort: pick(params.get('sort'), allowed.sort, defaults.sort),
    order: pick(params.get('order'), ['asc', 'desc'] as const, defaults.order),
    q: params.get('q') ?? defaults.q,
  };
}

/** The query string of a list's view (`?…`, or '' for the defaults): only what differs from them. */
export function listQueryString<S extends string, K extends string>(
  view: ListQuery<S, K>,
  defaults: ListQuery<S, K>,
): string {
  const params = new URLSearchParams();
  if (view.status !== defaults.status) params.set('status', view.status);
  if (view.sort !== defaults.sort) params.set('sort', view.sort);
  if (view.order !== defaults.order) params.set('order', view.order);
  if (view.q.trim()) params.set('q', view.q.trim());
  const s = params.toString();
  return s ? `?${s}` : '';
}
