import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_SETTINGS, GiB, loadConfig } from '../../src/config/index.js';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it.each<[Record<string, string>, string]>([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ PORT: '-1' }, 'PORT'],
    [{ SESSION_TTL_DAYS: '-1' }, 'SESSION_TTL_DAYS'],
    [{ SESSION_TTL_DAYS: '0' }, 'SESSION_TTL_DAYS'],
    [{ SESSION_TTL_DAYS: 'week' }, 'SESSION_TTL_DAYS'],
    [{ MAX_TASK_SIZE: '1GB' }, 'MAX_TASK_SIZE'],
    [{ MIN_FREE_DISK: '-5' }, 'MIN_FREE_DISK'],
    [{ DEFAULT_QUOTA: '1.5' }, 'DEFAULT_QUOTA'],
    [{ DEFAULT_QUOTA: '99999999999999999999' }, 'DEFAULT_QUOTA'],
    [{ ARIA2_RPC_URL: 'ftp://x' }, 'ARIA2_RPC_URL'],
    [{ ARIA2_RPC_URL: '127.0.0.1:6800' }, 'ARIA2_RPC_URL'],
    [{ ALLOW_PRIVATE_NETWORK: 'maybe' }, 'ALLOW_PRIVATE_NETWORK'],
    [{ COOKIE_SECURE: 'on' }, 'COOKIE_SECURE'],
    [{ TRUST_PROXY: '2' }, 'TRUST_PROXY'],
    [{ ADMIN_PASSWORD: 'short' }, 'ADMIN_PASSWORD'],
    [{ ADMIN_USERNAME: 'a b' }, 'ADMIN_USERNAME'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ ALLOWED_ORIGINS: 'not-an-origin' }, 'ALLOWED_ORIGINS'],
    [{ ALLOWED_ORIGINS: 'https://ok.example,https://bad.example/path' }, 'ALLOWED_ORIGINS'],
    [{ ARIA2_RPC_SECRET: 'secret' }, 'ARIA2_RPC_SECRET'],
    [{ DATABASE_URL: 'mysql://u:p@h/db' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres://host-without-database' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'sqlite:' }, 'DATABASE_URL'],
    [{ DATABASE_URL: '/var/lib/aria/controller.db' }, 'DATABASE_URL'],
  ])('%o gives one line naming %s', (env, variable) => {
    const err = configError(env);
    expect(err.message).toMatch(new RegExp(`^Invalid ${variable}\\b`));
    expect(err.message).not.toContain('\n');
    expect(err.message.length).toBeGreaterThan(`Invalid ${variable}`.length + 5);
  });

  it('names the first bad variable when several are bad, whatever else is set', () => {
    expect(configError({ PORT: '8080', LOG_LEVEL: 'loud', DATA_DIR: '/tmp/x' }).message).toMatch(
      /^Invalid LOG_LEVEL/,
    );
  });

  it('never echoes a secret value', () => {
    const err = configError({ ADMIN_PASSWORD: 'short' });
    expect(err.message).toMatch(/^Invalid ADMIN_PASSWORD: /);
    expect(err.message).not.toContain('short');
  });

  it('never echoes DATABASE_URL, which may hold the database password', () => {
    const err = configError({ DATABASE_URL: 'mysql://aria:hunter2-secret@10.0.0.9/aria' });
    expect(err.message).toMatch(/^Invalid DATABASE_URL: /);
    expect(err.message).not.toContain('hunter2-secret');
    expect(err.message).toContain('postgres://');
  });

  it('DATABASE_URL chooses the database: SQLite by default or by sqlite:<file>, PostgreSQL by URL', () => {
    expect(loadConfig({ DATA_DIR: '/srv/aria' }).database).toEqual({
      kind: 'sqlite',
      file: '/srv/aria/controller.db',
    });
    expect(loadConfig({ DATABASE_URL: 'sqlite:/var/lib/aria/c.db' }).database).toEqual({
      kind: 'sqlite',
      file: '/var/lib/aria/c.db',
    });
    expect(loadConfig({ DATABASE_URL: 'sqlite:rel/c.db' }).database).toEqual({
      kind: 'sqlite',
      file: path.resolve('rel/c.db'),
    });
    for (const url of [
      'postgres://u:p@127.0.0.1:5432/aria',
      'postgresql://u@db.internal/aria?sslmode=require',
    ]) {
      expect(loadConfig({ DATABASE_URL: url }).database).toEqual({ kind: 'postgres', url });
    }
    expect(Object.isFrozen(loadConfig({}).database)).toBe(true);
  });

  it('explains the secret without a URL', () => {
    expect(configError({ ARIA2_RPC_SECRET: 'secret' }).message).toContain('ARIA2_RPC_URL');
  });

  it('has the documented defaults', () => {
    const c = loadConfig({});
    const dataDir = path.resolve('./data');
    expect(c).toEqual({
      host: '127.0.0.1',
      port: 8000,
      dataDir,
      downloadDir: path.join(dataDir, 'downloads'),
      database: { kind: 'sqlite', file: path.join(dataDir, 'controller.db') },
      aria2RpcUrl: null,
      aria2RpcSecret: null,
      nodes: null,
      allowedOrigins: [],
      cookieSecure: false,
      trustProxy: false,
      sessionTtlMs: 7 * 24 * 3600 * 1000,
      adminUsername: 'admin',
      adminPassword: null,
      settingsSeed: {},
      logLevel: 'info',
    });
    expect(DEFAULT_SETTINGS).toEqual({
      max_task_size: 10 * GiB,
      min_free_disk: GiB,
      default_quota: 100 * GiB,
      allow_private_network: false,
      max_concurrent_downloads: 5,
      max_overall_download_limit: 0,
      max_active_per_user: 3,
      max_current_tasks_per_user: 1000,
      auto_retry_attempts: 3,
      auto_retry_delay_s: 30,
      auto_retry_max_delay_s: 3600,
      seed_ratio: 0,
      seed_time_min: 0,
    });
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', LOG_LEVEL: '', ARIA2_RPC_URL: '' })).toMatchObject({
      port: 8000,
      logLevel: 'info',
      aria2RpcUrl: null,
    });
  });

  it('reads every variable that is set', () => {
    const c = loadConfig({
      HOST: '0.0.0.0',
      PORT: '9000',
      DATA_DIR: '/srv/aria',
      DOWNLOAD_DIR: '/mnt/downloads',
      ARIA2_RPC_URL: 'http://127.0.0.1:6800/jsonrpc',
      ARIA2_RPC_SECRET: 's3cret',
      ALLOWED_ORIGINS: 'https://a.example, http://b.example:8080/',
      COOKIE_SECURE: 'true',
      TRUST_PROXY: 'yes',
      SESSION_TTL_DAYS: '1.5',
      ADMIN_USERNAME: 'root.admin',
      ADMIN_PASSWORD: 'long-enough',
      ALLOW_PRIVATE_NETWORK: '1',
      MAX_TASK_SIZE: '1024',
      MIN_FREE_DISK: '0',
      DEFAULT_QUOTA: '2048',
      LOG_LEVEL: 'debug',
      DATABASE_URL: 'postgres://aria:db-pass@10.0.0.9:5432/aria',
    });
    expect(c).toEqual({
      host: '0.0.0.0',
      port: 9000,
      dataDir: '/srv/aria',
      downloadDir: '/mnt/downloads',
      database: { kind: 'postgres', url: 'postgres://aria:db-pass@10.0.0.9:5432/aria' },
      aria2RpcUrl: 'http://127.0.0.1:6800/jsonrpc',
      aria2RpcSecret: 's3cret',
      nodes: null,
      allowedOrigins: ['https://a.example', 'http://b.example:8080'],
      cookieSecure: true,
      trustProxy: true,
      sessionTtlMs: 1.5 * 24 * 3600 * 1000,
      adminUsername: 'root.admin',
      adminPassword: 'long-enough',
      settingsSeed: {
        allow_private_network: true,
        max_task_size: 1024,
        min_free_disk: 0,
        default_quota: 2048,
      },
      logLevel: 'debug',
    });
  });

  it('seeds only the settings whose variable is set', () => {
    expect(loadConfig({ ALLOW_PRIVATE_NETWORK: 'false' }).settingsSeed).toEqual({
      allow_private_network: false,
    });
  });

  it('accepts ws:// and https:// aria2 URLs', () => {
    expect(loadConfig({ ARIA2_RPC_URL: 'ws://10.0.0.2:6800/jsonrpc' }).aria2RpcUrl).toBe(
      'ws://10.0.0.2:6800/jsonrpc',
    );
    expect(loadConfig({ ARIA2_RPC_URL: 'https://aria.example/jsonrpc' }).aria2RpcUrl).toBe(
      'https://aria.example/jsonrpc',
    );
  });

  it('returns a frozen object, nested lists included', () => {
    const c = loadConfig({ ALLOWED_ORIGINS: 'https://a.example', MAX_TASK_SIZE: '10' });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.allowedOrigins)).toBe(true);
    expect(Object.isFrozen(c.settingsSeed)).toBe(true);
    expect(() => {
      (c as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (c.allowedOrigins as string[]).push('https://evil.example');
    }).toThrow(TypeError);
    expect(() => {
      (c.settingsSeed as { max_task_size?: number }).max_task_size = 1;
    }).toThrow(TypeError);
    expect(c.port).toBe(8000);
    expect(c.settingsSeed.max_task_size).toBe(10);
  });
});
