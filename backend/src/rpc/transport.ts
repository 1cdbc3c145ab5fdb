import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { TORRENT_BODY_LIMIT } from '../config/limits.js';
import { MAX_IDS_PER_CALL } from '../domain/task-rules.js';
import type { Actor } from '../services/context.js';
import type { ControllerEvents, TaskRow, TokenRevoked } from '../services/events.js';
import { hashToken } from '../services/tokens.js';
import { METHODS, OPEN_METHODS, RpcError, RpcMethods } from './methods.js';

/** Who a secret belongs to: the token's owner and the token's id; null for a wrong secret. */
export type Authenticate = (secret: string) => Promise<{ actor: Actor; tokenId: number } | null>;

/** The bounds of the RPC; only tests shorten them. */
export interface RpcLimits {
  /** How long a wrong secret waits for its answer (aria2 waits a second). */
  unauthorizedDelayMs: number;
  /** The longest one method call may take before it is answered with an error. */
  callTimeoutMs: number;
  /** How long a new socket has to send its first authenticated call before it is closed. */
  firstCallMs: number;
  /** Sockets from one address that have not yet sent an authenticated call. */
  unboundPerAddress: number;
}

export const RPC_LIMITS: RpcLimits = {
  unauthorizedDelayMs: 1000,
  callTimeoutMs: 30_000,
  firstCallMs: 10_000,
  unboundPerAddress: 8,
};

export interface RpcOptions {
  authenticate: Authenticate;
  events: ControllerEvents;
  limits?: Partial<RpcLimits>;
  /**
   * Remember a checked token until it is revoked (or for TOKEN_MEMORY_MS), instead of asking the
   * database on every request. Only where every revocation is heard here the moment it happens: one
   * instance on its own database (SQLite). Instances sharing PostgreSQL hear another's revocation a
   * moment later, if at all, so they check each request. Default: from the configured database.
   */
  rememberTokens?: boolean;
}

/** The most calls one batch or one system.multicall carries (the REST API's bulk limit). */
export const MAX_CALLS = MAX_IDS_PER_CALL;
/**
 * The largest message a socket takes: the REST add's body limit, room for a 16 MiB .torrent in base64
 * (a bigger one is closed with 1009 by the WebSocket server, registered with this limit in app.ts).
 */
export const MAX_MESSAGE_BYTES = TORRENT_BODY_LIMIT;
/** A socket's requests are answered one after another; past this many waiting it is cut off. */
const MAX_QUEUED_MESSAGES = 100;
/** Nor may the waiting ones hold more than this many bytes. */
const MAX_QUEUED_BYTES = 2 * MAX_MESSAGE_BYTES;
const UNAUTHORIZED = 'Unauthorized';
/** Close codes: a revoked token's socket (as the live socket's), and one that broke a bound. */
const CLOSE_REVOKED = 4401;
const CLOSE_POLICY = 1008;
/** Revocations remembered for the token checks still under way when they happened. */
const REVOCATIONS_KEPT = 1000;
/**
 * How long a remembered token is trusted without the database: its `last_used_at` moves as often as
 * without the memory (services/tokens.ts), and its owner's details are read again.
 */
const TOKEN_MEMORY_MS = 60_000;
/** Tokens remembered at most; past it the oldest go. */
const TOKENS_REMEMBERED = 10_000;

type Json = unknown;
type Who = { actor: Actor; tokenId: number };
/** A token check under way, and the count of revocations when it started. */
type Check = { since: number; who: Promise<Who | null> };

interface Binding {
  /** The user (and token) a socket's first authenticated call bound it to; null over HTTP. */
  bound: Who | null;
  /** Set when the answer carries an Unauthorized: it is sent after the deliberate delay. */
  unauthorized: boolean;
  socket?: boolean;
  /** Called once, when a socket's first authenticated call binds it. */
  onBound?: () => void;
  /** Set when a call's token was revoked while it was being checked: the socket closes as a bound one would. */
  revoked?: boolean;
}

/** Whether a revocation ends what `who` authenticated with (its token, or every token of its user). */
function hits(r: TokenRevoked, who: Who): boolean {
  return r.tokenId === null ? who.actor.id === r.userId : who.tokenId === r.tokenId;
}

const errorOf = (id: Json, code: number, message: string) => ({
  id,
  jsonrpc: '2.0',
  error: { code, message },
});

/** aria2's HTTP status of a single call's answer (a batch is always 200). */
function httpStatus(code: number | null): number {
  if (code === null) return 200;
  if (code === 1 || code === -32600) return 400;
  if (code === -32601) return 404;
  // aria2 answers a parse error 500; bad input is a 4xx here, as everywhere in the controller.
  return 400;
}

/**
 * JSON-RPC 2.0 as aria2 speaks it, over HTTP POST and WebSocket at `/jsonrpc`: single and batch
 * requests, the secret (`token:<API token>`) first in every call's params, `system.multicall` with a
 * secret in each call, aria2's error shape and its delay on a wrong secret, and the notifications of
 * the user's own downloads on the sockets.
 */
export class RpcServer {
  private readonly limits: RpcLimits;
  private readonly sockets = new Map<WebSocket, Binding>();
  /** Sockets not yet bound to a user, by address. */
  private readonly unbound = new Map<string, number>();
  /** The last status seen of each task, so a notification is sent once per change of status. */
  private readonly lastStatus = new Map<number, string>();
  private readonly onUpdate = (row: TaskRow) => {
    this.methods.taskUpdated(row);
    this.notify(row);
  };
  private readonly onRemoved = (owner: number, id: number) => {
    this.methods.taskRemoved(owner, id);
    this.lastStatus.delete(id);
  };
  /**
   * The latest revocations, numbered: a token check that was under way when one happened does not let
   * its token (or user) through, nor bind a socket the revocation could not yet see.
   */
  private revoked = 0;
  private readonly revocations: (TokenRevoked & { seq: number })[] = [];
  /** Checked tokens by their hash, when `rememberTokens`: what one poll after another costs no query. */
  private readonly known = new Map<string, { who: Who; at: number }>();
  private readonly onTokenRevoked = (r: TokenRevoked) => {
    this.revocations.push({ ...r, seq: ++this.revoked });
    if (this.revocations.length > REVOCATIONS_KEPT) this.revocations.shift();
    for (const [hash, k] of this.known) if (hits(r, k.who)) this.known.delete(hash);
    for (const [socket, b] of this.sockets)
      if (b.bound && hits(r, b.bound)) socket.close(CLOSE_REVOKED, UNAUTHORIZED);
  };

  constructor(
    private readonly methods: RpcMethods,
    private readonly options: RpcOptions,
  ) {
    this.limits = { ...RPC_LIMITS, ...options.limits };
    options.events.on('task_update', this.onUpdate);
    options.events.on('task_removed', this.onRemoved);
    options.events.on('token_revoked', this.onTokenRevoked);
  }

  close(): void {
    this.options.events.off('task_update', this.onUpdate);
    this.options.events.off('task_removed', this.onRemoved);
    this.options.events.off('token_revoked', this.onTokenRevoked);
    for (const socket of this.sockets.keys()) socket.close(1001, 'server shutting down');
    this.sockets.clear();
    this.unbound.clear();
    this.known.clear();
  }

  /** The answer to one request body (a call or a batch), and its HTTP status. */
  async answer(text: string, binding: Binding): Promise<{ status: number; body: Json }> {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return { status: httpStatus(-32700), body: errorOf(null, -32700, 'Parse error.') };
    }
    const auth = new Map<string, Check>();
    if (Array.isArray(message)) {
      if (message.length === 0 || message.length > MAX_CALLS)
        return {
          status: 400,
          body: errorOf(null, -32600, `Invalid Request: a batch holds 1 to ${MAX_CALLS} calls.`),
        };
      const answers: Json[] = [];
      for (const call of message) answers.push((await this.single(call, binding, auth)).body);
      return { status: 200, body: answers };
    }
    const { body, code } = await this.single(message, binding, auth);
    return { status: httpStatus(code), body };
  }

  /** Checks the secret that leads `params`; the user it names, or null. */
  private async actorOf(
    params: unknown[],
    binding: Binding,
    auth: Map<string, Check>,
  ): Promise<Actor | null> {
    const first = params[0];
    if (typeof first !== 'string' || !first.startsWith('token:')) return null;
    const secret = first.slice('token:'.length);
    if (secret.length === 0 || secret.length > 512) return null;
    const who = await this.check(secret, auth);
    if (who === 'revoked') binding.revoked = true;
    if (!who || who === 'revoked') return null;
    if (binding.socket) {
      // A socket is one user's: it hears that user's notifications, so it takes no other user's calls.
      if (binding.bound && binding.bound.actor.id !== who.actor.id) return null;
      // Bound right after the check, with no wait between: a later revocation finds it.
      if (!binding.bound) {
        binding.bound = who;
        binding.onBound?.();
      }
    }
    return who.actor;
  }

  /**
   * The token's owner, asked of the database once per request body (a revoked token or a deleted
   * user's is refused by the next request): null when a revocation came while it was being checked.
   */
  private async check(secret: string, auth: Map<string, Check>): Promise<Who | 'revoked' | null> {
    let found = auth.get(secret);
    if (!found) {
      found = { since: this.revoked, who: this.remembered(secret) };
      auth.set(secret, found);
    }
    const who = await found.who;
    if (!who || this.revoked === found.since) return who;
    const oldest = this.revocations[0]?.seq ?? this.revoked + 1;
    // Revocations dropped from the list since the check began: it cannot tell, so it refuses.
    if (oldest > found.since + 1) return 'revoked';
    for (const r of this.revocations) if (r.seq > found.since && hits(r, who)) return 'revoked';
    return who;
  }

  /**
   * The token's owner from memory (`rememberTokens`) or from the database. A check is remembered only
   * when no revocation came while it was under way: a revoked token never enters the memory.
   */
  private remembered(secret: string): Promise<Who | null> {
    const ask = () => this.options.authenticate(secret).catch(() => null);
    if (!this.options.rememberTokens) return ask();
    const hash = hashToken(secret);
    const now = Date.now();
    const hit = this.known.get(hash);
    if (hit && now - hit.at < TOKEN_MEMORY_MS) return Promise.resolve(hit.who);
    this.known.delete(hash);
    const since = this.revoked;
    return ask().then((who) => {
      if (who && this.revoked === since) {
        if (this.known.size >= TOKENS_REMEMBERED) this.known.delete(this.known.keys().next().value!);
        this.known.set(hash, { who, at: now });
      }
      return who;
    });
  }

  private async single(
    call: unknown,
    binding: Binding,
    auth: Map<string, Check>,
  ): Promise<{ body: Json; code: number | null }> {
    if (typeof call !== 'object' || call === null || Array.isArray(call))
      return { body: errorOf(null, -32600, 'Invalid Request.'), code: -32600 };
    const { method, params: rawParams, id } = call as { method?: unknown; params?: unknown; id?: unknown };
    const callId = (id ?? null) as Json;
    if (typeof method !== 'string' || id === undefined)
      return { body: errorOf(callId, -32600, 'Invalid Request.'), code: -32600 };
    if (rawParams !== undefined && !Array.isArray(rawParams))
      return { body: errorOf(callId, -32602, 'Invalid params.'), code: -32602 };
    const params = (rawParams ?? []) as unknown[];
    try {
      const result = await this.invoke(method, params, binding, auth);
      return { body: { id: callId, jsonrpc: '2.0', result }, code: null };
    } catch (err) {
      const e = err instanceof RpcError ? err : new RpcError(1, 'Internal error');
      if (e.message === UNAUTHORIZED && e.code === 1) binding.unauthorized = true;
      return { body: errorOf(callId, e.code, e.message), code: e.code };
    }
  }

  private async invoke(
    method: string,
    params: unknown[],
    binding: Binding,
    auth: Map<string, Check>,
  ): Promise<unknown> {
    if (!(METHODS as readonly string[]).includes(method)) throw new RpcError(-32601, 'Method not found.');
    if (OPEN_METHODS.has(method)) {
      const rest = typeof params[0] === 'string' && params[0].startsWith('token:') ? params.slice(1) : params;
      return this.methods.call({ id: 0, username: '', is_admin: false, quota: 0 }, method, rest);
    }
    if (method === 'system.multicall') return this.multicall(params, binding, auth);
    const actor = await this.actorOf(params, binding, auth);
    if (!actor) throw new RpcError(1, UNAUTHORIZED);
    return this.bounded(this.methods.call(actor, method, params.slice(1)));
  }

  /**
   * A call's answer, or aria2's error shape once it has taken too long: the socket goes on with the
   * next request. The call itself is not undone (an add may still land; a repeat is a duplicate).
   */
  private async bounded<T>(call: Promise<T>): Promise<T> {
    const ms = this.limits.callTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RpcError(1, `The call took longer than ${ms / 1000} s; it may still take effect`)),
        ms,
      );
    });
    try {
      return await Promise.race([call, late]);
    } finally {
      clearTimeout(timer);
      call.catch(() => undefined);
    }
  }

  /** Each call on its own, with its own secret: `[result]` or `{code, message}` per call. */
  private async multicall(params: unknown[], binding: Binding, auth: Map<string, Check>): Promise<unknown[]> {
    const calls = params[0];
    if (!Array.isArray(calls))
      throw new RpcError(1, 'Invalid params: system.multicall takes a list of calls');
    if (calls.length > MAX_CALLS)
      throw new RpcError(1, `Invalid params: system.multicall takes at most ${MAX_CALLS} calls`);
    const out: unknown[] = [];
    for (const c of calls) {
      const { methodName, params: p } = (c ?? {}) as { methodName?: unknown; params?: unknown };
      try {
        if (typeof methodName !== 'string') throw new RpcError(1, 'Missing methodName.');
        if (p !== undefined && !Array.isArray(p)) throw new RpcError(1, 'Missing params.');
        if (methodName === 'system.multicall') throw new RpcError(1, 'Recursive system.multicall forbidden.');
        out.push([await this.invoke(methodName, (p ?? []) as unknown[], binding, auth)]);
      } catch (err) {
        const e = err instanceof RpcError ? err : new RpcError(1, 'Internal error');
        if (e.message === UNAUTHORIZED) binding.unauthorized = true;
        out.push({ code: e.code, message: e.message });
      }
    }
    return out;
  }

  /** Waits aria2's deliberate delay when the answer carries an Unauthorized. */
  async delayIfUnauthorized(binding: Binding): Promise<void> {
    if (binding.unauthorized) await sleep(this.limits.unauthorizedDelayMs);
    binding.unauthorized = false;
  }

  /**
   * A new socket from `address`: it counts among that address's unbound sockets (over the cap it is
   * closed at once) until its first authenticated call, which must come within `firstCallMs`.
   */
  addSocket(socket: WebSocket, address: string): void {
    const count = this.unbound.get(address) ?? 0;
    if (count >= this.limits.unboundPerAddress) {
      socket.close(CLOSE_POLICY, 'too many connections without a valid call');
      return;
    }
    this.unbound.set(address, count + 1);
    let counted = true;
    const uncount = () => {
      if (!counted) return;
      counted = false;
      clearTimeout(deadline);
      const left = (this.unbound.get(address) ?? 1) - 1;
      if (left > 0) this.unbound.set(address, left);
      else this.unbound.delete(address);
    };
    const deadline = setTimeout(() => {
      if (!binding.bound) socket.close(CLOSE_POLICY, 'no valid call in time');
    }, this.limits.firstCallMs);
    const binding: Binding = { bound: null, unauthorized: false, socket: true, onBound: uncount };
    this.sockets.set(socket, binding);
    socket.on('close', () => {
      uncount();
      this.sockets.delete(socket);
    });
    let chain = Promise.resolve();
    let queued = 0;
    let queuedBytes = 0;
    socket.on('message', (data, isBinary) => {
      const size = messageBytes(data);
      queuedBytes += size;
      if (++queued > MAX_QUEUED_MESSAGES || queuedBytes > MAX_QUEUED_BYTES) {
        socket.close(CLOSE_POLICY, 'too many requests waiting');
        return;
      }
      const text = isBinary ? '' : String(data);
      // One after another, as aria2 answers a socket: a slow call holds back the ones behind it.
      chain = chain.then(async () => {
        try {
          const { body } = await this.answer(text, binding);
          if (binding.revoked) {
            // Its token was revoked during the check: answered at once, then closed as if it had been bound.
            binding.unauthorized = false;
            if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(body));
            socket.close(CLOSE_REVOKED, UNAUTHORIZED);
            return;
          }
          await this.delayIfUnauthorized(binding);
          if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(body));
        } finally {
          queued--;
          queuedBytes -= size;
        }
      });
    });
  }

  /** The aria2 notification of a task's new status, to its owner's sockets. */
  private notify(row: TaskRow): void {
    const before = this.lastStatus.get(row.id);
    this.lastStatus.set(row.id, row.status);
    if (before === row.status || !row.gid) return;
    const names: string[] = [];
    // A task first heard of while active started now if it has no bytes yet (not one running since
    // before the controller started).
    const started = before === undefined ? row.completed_length === 0 : before !== 'active';
    if (row.status === 'active' && started) names.push('aria2.onDownloadStart');
    else if (row.status === 'paused') names.push('aria2.onDownloadPause');
    else if (row.status === 'removed') names.push('aria2.onDownloadStop');
    else if (row.status === 'error') names.push('aria2.onDownloadError');
    else if (row.status === 'complete') {
      if (row.info_hash) names.push('aria2.onBtDownloadComplete');
      names.push('aria2.onDownloadComplete');
    }
    if (names.length === 0) return;
    for (const [socket, b] of this.sockets) {
      if (b.bound?.actor.id !== row.owner_id || socket.readyState !== socket.OPEN) continue;
      for (const method of names)
        socket.send(JSON.stringify({ jsonrpc: '2.0', method, params: [{ gid: row.gid }] }));
    }
  }
}

function messageBytes(data: Buffer | ArrayBuffer | Buffer[]): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data.byteLength;
}

/** Sends an HTTP answer after the delay a wrong secret earns. */
async function reply(server: RpcServer, r: FastifyReply, binding: Binding, status: number, body: Json) {
  await server.delayIfUnauthorized(binding);
  return r
    .status(status)
    .header('content-type', 'application/json-rpc')
    .header('access-control-allow-origin', '*')
    .send(JSON.stringify(body));
}

/** `POST /jsonrpc` and the `/jsonrpc` WebSocket, authenticated by the secret in each call. */
export async function rpcRoutes(app: FastifyInstance, options: RpcOptions): Promise<void> {
  const { tasks, stats, settings, views } = app.deps.services;
  const server = new RpcServer(new RpcMethods({ tasks, stats, settings, views }, app.log), {
    ...options,
    rememberTokens: options.rememberTokens ?? app.deps.config.database.kind === 'sqlite',
  });
  app.addHook('onClose', async () => server.close());
  // aria2's clients send their JSON under any content type (or none); the body is read as text here.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: TORRENT_BODY_LIMIT }, (_req, body, done) =>
    done(null, body),
  );
  const config = { access: 'rpc' } as const;

  app.post(
    '/jsonrpc',
    {
      config,
      bodyLimit: TORRENT_BODY_LIMIT,
      schema: {
        tags: ['rpc'],
        summary:
          "aria2's JSON-RPC 2.0 for aria2 clients: the secret is `token:<API token>`, first in each call's params (docs/api.md)",
      },
    },
    async (request: FastifyRequest, r: FastifyReply) => {
      const binding: Binding = { bound: null, unauthorized: false };
      const text = typeof request.body === 'string' ? request.body : '';
      const { status, body } = await server.answer(text, binding);
      return reply(server, r, binding, status, body);
    },
  );

  // A browser client on another origin (AriaNg) asks first: any origin may call, as aria2 allows with
  // --rpc-allow-origin-all; the token in each call is the credential.
  app.options(
    '/jsonrpc',
    { config, schema: { tags: ['rpc'], summary: "The RPC's CORS preflight: any origin may call it" } },
    async (request: FastifyRequest, r: FastifyReply) => {
      const asked = request.headers['access-control-request-headers'];
      return r
        .status(204)
        .header('access-control-allow-origin', '*')
        .header('access-control-allow-methods', 'POST, GET, OPTIONS')
        .header(
          'access-control-allow-headers',
          typeof asked === 'string' ? asked.slice(0, 1024) : 'content-type',
        )
        .header('access-control-max-age', '1728000')
        .send();
    },
  );

  app.route({
    method: 'GET',
    url: '/jsonrpc',
    config,
    schema: { hide: true },
    // aria2's GET form (JSONP) is not served: a plain GET is told what is.
    handler: async (_request, r) =>
      r.status(400).send({ detail: 'The RPC takes a POST of JSON-RPC or a WebSocket upgrade' }),
    wsHandler: (socket, request) => server.addSocket(socket, request.ip),
  });
}
