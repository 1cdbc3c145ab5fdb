import { describe, expect, it } from 'vitest';
import { listQueryString, loginUrl, readListQuery, safeNextPath } from './navigation';

describe('login redirects', () => {
  it('remembers the page to come back to', () => {
    expect(loginUrl('/tasks/detail?id=5')).toBe('/login?next=%2Ftasks%2Fdetail%3Fid%3D5');
    expect(loginUrl('/login')).toBe('/login');
  });

  it('only goes back to paths of this site', () => {
    expect(safeNextPath('/history')).toBe('/history');
    expect(safeNextPath('//evil.example/x')).toBe('/tasks');
    expect(safeNextPath('https://evil.example')).toBe('/tasks');
    expect(safeNextPath('/\\evil.example')).toBe('/tasks');
    expect(safeNextPath(null)).toBe('/tasks');
    expect(safeNextPath('/login?next=/x')).toBe('/tasks');
  });
});

describe('a list view in the URL', () => {
  const defaults = { status: 'all', sort: 'created_at', order: 'desc' as const, q: '' };
  const allowed = { status: ['all', 'error', 'waiting'], sort: ['created_at', 'name'] };

  it('writes only what differs from the defaults, and reads it back', () => {
    const view = { status: 'error', sort: 'name', order: 'asc' as const, q: ' ubuntu iso ' };
    const qs = listQueryString(view, defaults);
    expect(qs).toBe('?status=error&sort=name&order=asc&q=ubuntu+iso');
    expect(readListQuery(new URLSearchParams(qs), defaults, allowed)).toEqual({ ...view, q: 'ubuntu iso' });
    expect(listQueryString(defaults, defaults)).toBe('');
  });

  it('reads a missing or unknown value as its default', () => {
    expect(readListQuery(new URLSearchParams('status=bogus&sort=size&order=up'), defaults, allowed)).toEqual(
      defaults,
    );
    expect(readListQuery(new URLSearchParams('status=waiting'), defaults, allowed).status).toBe('waiting');
  });
});
