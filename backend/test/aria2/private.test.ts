/**
 * The embedded aria2c stays private: its RPC secret is in no command line or environment another
 * local user could read (only in a conf file of mode 0600), and it listens on loopback only.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, type TestController } from '../helpers/controller.js';

/** Socket inodes a process holds open. */
function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/** "0100007F" (little-endian words, as /proc/net/tcp* writes them) -> "127.0.0.1" or "::1" style text. */
function procAddress(hex: string): string {
  const words = hex.match(/.{8}/g)!.map((w) => w.match(/../g)!.reverse().join(''));
  if (words.length === 1)
    return words[0]!
      .match(/../g)!
      .map((b) => Number.parseInt(b, 16))
      .join('.');
  const groups = words
    .join('')
    .match(/.{4}/g)!
    .map((g) => Number.parseInt(g, 16).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** The TCP sockets a process listens on, as [address, port]. */
function listeningSockets(pid: number): { address: string; port: number }[] {
  const inodes = socketInodes(pid);
  const out: { address: string; port: number }[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9]!)) continue;
      const [addr, port] = f[1]!.split(':');
      out.push({ address: procAddress(addr!), port: Number.parseInt(port!, 16) });
    }
  }
  return out;
}

describe('the embedded aria2c stays private', () => {
  let ctl: TestController;
  let pid: number;

  beforeAll(async () => {
    // As main.ts has it: the controller's own secrets in its environment.
    process.env.ADMIN_PASSWORD = 'admin-password-1';
    try {
      ctl = await startTestController();
    } finally {
      delete process.env.ADMIN_PASSWORD;
    }
    pid = ctl.daemon!.pid!;
  });
  afterAll(async () => {
    await ctl?.destroy();
  });

  it('the secret is in neither its command line nor its environment', () => {
    const secret = ctl.daemon!.secret;
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    expect(cmdline).toContain('--enable-rpc');
    expect(cmdline).not.toContain(secret);
    // aria2 masks --rpc-secret in its own argv once running, but the value is readable before that.
    expect(cmdline).not.toContain('--rpc-secret');
    // Nor the egress proxy's password, which would let any local program use the proxy.
    expect(cmdline).not.toContain('all-proxy-passwd');
    expect(fs.readFileSync(ctl.daemon!.confFile, 'utf8')).toMatch(/^all-proxy-passwd=\S+$/m);
    const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
    expect(environ).not.toContain(secret);
    // Nor the controller's own secrets.
    expect(environ).not.toContain('admin-password-1');
    expect(environ).not.toMatch(/(^|\0)(ADMIN_PASSWORD|ARIA2_RPC_SECRET)=/);
  });

  it('the secret comes from a conf file only the controller user can read, and it works', async () => {
    const conf = ctl.daemon!.confFile;
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')).toContain(`--conf-path=${conf}`);
    expect(fs.statSync(conf).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(conf)).mode & 0o077).toBe(0);
    expect(fs.readFileSync(conf, 'utf8')).toContain(`rpc-secret=${ctl.daemon!.secret}`);
    // The daemon really took it: the token is required.
    const port = new URL(ctl.daemon!.url).port;
    const ask = async (params: string[]) =>
      (await (
        await fetch(`http://127.0.0.1:${port}/jsonrpc`, {
          method: 'POST',
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'aria2.getGlobalStat', params }),
        })
      ).json()) as { result?: unknown; error?: unknown };
    expect((await ask([`token:${ctl.daemon!.secret}`])).result).toBeDefined();
    expect((await ask([])).error).toBeDefined();
  });

  it('every socket it listens on is bound to loopback, the RPC port among them', () => {
    const sockets = listeningSockets(pid);
    const port = Number(new URL(ctl.daemon!.url).port);
    expect(sockets.map((s) => s.port)).toContain(port);
    for (const s of sockets) expect(['127.0.0.1', '::1']).toContain(s.address);
  });
});
