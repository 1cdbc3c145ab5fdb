import { describe, expect, it } from 'vitest';
import { loginUrl, safeNextPath } from './navigation';

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
