/** The caller's API tokens (managed with the session cookie only). */
import type { ApiToken, CreatedApiToken } from '@contracts';
import { request } from './api';

export type { ApiToken, CreatedApiToken };

export function listTokens(): Promise<ApiToken[]> {
  return request<ApiToken[]>('/api/tokens');
}
export function createToken(name: string): Promise<CreatedApiToken> {
  return request<CreatedApiToken>('/api/tokens', { method: 'POST', body: { name } });
}
export function revokeToken(id: number): Promise<void> {
  return request<void>(`/api/tokens/${id}`, { method: 'DELETE' });
}
