'use client';

import { useSearchParams } from 'next/navigation';
import { type RefObject, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { type ListQuery, listQueryString, readListQuery } from './navigation';

/** The value, once it has stopped changing for `ms`. */
export function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return debounced;
}

const useIsoLayoutEffect = typeof window === 'undefined' ? useEffect : useLayoutEffect;

/**
 * An element's distance from the top of the document (a window-scrolled virtual list's
 * `scrollMargin`), kept current as the page above it changes size.
 */
export function useScrollMargin(ref: RefObject<HTMLElement | null>): number {
  const [margin, setMargin] = useState(0);
  useIsoLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const update = () => {
      const top = Math.round(el.getBoundingClientRect().top + window.scrollY);
      setMargin((m) => (m === top ? m : top));
    };
    update();
    const ro = new ResizeObserver(update);
    if (el.parentElement) ro.observe(el.parentElement);
    ro.observe(document.body);
    window.addEventListener('resize', update);
    return () => {
      ro.disconnect();
      window.removeEventListener('resize', update);
    };
  }, [ref]);
  return margin;
}

/** Whether a media query matches (false while prerendering). */
export function useMediaQuery(query: string): boolean {
  const [matches, setMatches] = useState(false);
  useEffect(() => {
    const mql = window.matchMedia(query);
    const update = () => setMatches(mql.matches);
    update();
    mql.addEventListener('change', update);
    return () => mql.removeEventListener('change', update);
  }, [query]);
  return matches;
}

/**
 * A list page's view (status, sort, order, search) kept in the query string, so a reload or a link
 * opens the same list and Back returns to the previous one. `defaults` and `allowed` must be stable
 * (module constants). `update(patch, 'push')` makes a history entry; `'replace'` (typing a search)
 * does not.
 */
export function useListQuery<S extends string, K extends string>(
  defaults: ListQuery<S, K>,
  allowed: { status: readonly S[]; sort: readonly K[] },
) {
  const params = useSearchParams();
  const view = useMemo(() => readListQuery(params, defaults, allowed), [params, defaults, allowed]);
  const update = useCallback(
    (patch: Partial<ListQuery<S, K>>, how: 'push' | 'replace') => {
      const { pathname, search } = window.location;
      const current = readListQuery(new URLSearchParams(search), defaults, allowed);
      const next = pathname + listQueryString({ ...current, ...patch }, defaults);
      if (next === pathname + search) return;
      // Next's router follows the browser's history calls (its search params update, Back restores).
      if (how === 'push') window.history.pushState(null, '', next);
      else window.history.replaceState(null, '', next);
    },
    [defaults, allowed],
  );
  return [view, update] as const;
}

/**
 * A search box over a search kept elsewhere (the URL): what is typed is written back once it stops
 * changing for `ms`, and a search changed from outside (Back) shows in the box.
 */
export function useSearchBox(kept: string, write: (q: string) => void, ms = 250) {
  const [text, setText] = useState(kept);
  const debounced = useDebounced(text, ms);
  const written = useRef(kept);
  const writeRef = useRef(write);
  writeRef.current = write;
  useEffect(() => {
    const q = debounced.trim();
    if (q === written.current) return;
    written.current = q;
    writeRef.current(q);
  }, [debounced]);
  useEffect(() => {
    if (kept === written.current) return;
    written.current = kept;
    setText(kept);
  }, [kept]);
  return [text, setText] as const;
}
