'use client';

import { useQuery } from '@tanstack/react-query';
import { api } from '../../lib/api';
import { meKey } from '../tasks/cache';

/** The signed-in user (a 401 sends the browser to the login page). */
export function useMe(enabled = true) {
  return useQuery({ queryKey: meKey, queryFn: api.me, staleTime: 5 * 60_000, enabled, retry: false });
}
