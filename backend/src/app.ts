import type { Socket } from 'node:net';
import cookie from '@fastify/cookie';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from './config/index.js';
import { JSON_BODY_LIMIT, REQUEST_TIMEOUT_MS } from './config/limits.js';
import { prebuiltEncoders } from './contracts/encode.js';
import { authPlugin } from './plugins/auth.js';
import { errorHandlerPlugin } from './plugins/error-handler.js';
import { openApiPlugin } from './plugins/openapi.js';
import { routeTablePlugin } from './plugins/route-table.js';
import { securityPlugin } from './plugins/security.js';
import { staticUiPlugin } from './plugins/static-ui.js';
import type { SocketHub } from './realtime/hub.js';
import { socketRoutes } from './realtime/routes.js';
import { authRoutes } from './routes/auth.js';
import { configRoutes } from './routes/config.js';
import { fileRoutes } from './routes/files.js';
import { healthRoutes } from './routes/health.js';
import { publicShareRoutes, shareRoutes } from './routes/shares.js';
import { statsRoutes } from './routes/stats.js';
import { taskRoutes } from './routes/tasks.js';
import { tokenRoutes } from './routes/tokens.js';
import { userRoutes } from './routes/users.js';
import { MAX_MESSAGE_BYTES, rpcRoutes } from './rpc/transport.js';
import type { AuthService } from './services/auth.js';
import type { AutoRetryService } from './services/auto-retry.js';
import type { ControllerEvents } from './services/events.js';
import type { FilesService } from './services/files.js';
import type { RetryService } from './services/retry.js';
import type { SettingsService } from './services/settings.js';
import type { SharesService } from './services/shares.js';
import type { StatsService } from './services/stats.js';
import type { TaskViewsService } from './services/task-views.js';
import type { TaskServices } from './services/tasks.js';
import type { TokensService } from './services/tokens.js';
import type { UsersService } from './services/users.js';

export interface AppServices {
  auth: AuthService;
  users: UsersService;
  tasks: TaskServices;
  retry: RetryService;
  autoRetry: AutoRetryService;
  files: FilesService;
  shares: SharesService;
  stats: StatsService;
  settings: SettingsService;
  tokens: TokensService;
  views: TaskViewsService;
}

export interface AppDeps {
  config: Config;
  services: AppServices;
  hub: SocketHub;
  /** What the RPC's notifications follow. */
  events: ControllerEvents;
  /** Folder of the built UI (frontend/out); absent in API-only tests. */
  uiDir?: string | null;
  logger?: FastifyServerOptions['logger'];
}

declare module 'fastify' {
  interface FastifyInstance {
    /** What routes use: each route plugin takes its services from `deps.services` once, when registered. */
    deps: AppDeps;
  }
}

/** A request the HTTP parser rejects (no HTTP, headers too large, a bad length): a {detail} answer. */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, detail] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'The request took too long to arrive']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'The request headers are too large']
        : [400, 'Bad Request', 'The request is not valid HTTP'];
  const body = JSON.stringify({ detail });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** Task lists are answered by their pre-built encoder (contracts/encode.ts); every other body by zod. */
export function responseSerializer(
  route: Parameters<typeof serializerCompiler>[0],
): (data: unknown) => string {
  const encode = prebuiltEncoders.get(route.schema);
  return encode ? (data) => encode(data as never) : serializerCompiler(route);
}

/** The controller as a Fastify instance: plugins first, then routes. Only main.ts listens on it. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ?? false,
    trustProxy: deps.config.trustProxy,
    bodyLimit: JSON_BODY_LIMIT,
    routerOptions: { maxParamLength: 16 * 1024 },
    // A request body trickling in (slow-loris) is not waited for without bound. Node reads the bound
    // when it creates the server (set later, as Fastify's own option does, its headers bound of 60 s
    // still applies), so it is passed to the server's creation too.
    requestTimeout: REQUEST_TIMEOUT_MS,
    http: { requestTimeout: REQUEST_TIMEOUT_MS },
    // Errors the router and the HTTP parser raise before any route runs are answered as {detail} too.
    frameworkErrors: (error, _request, reply) => {
      (reply as FastifyReply).status(400).send({ detail: `Invalid request: ${error.message}` });
    },
    clientErrorHandler: answerClientError,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(responseSerializer);
  app.decorate('deps', deps);

  await app.register(routeTablePlugin);
  await app.register(errorHandlerPlugin);
  await app.register(cookie);
  await app.register(securityPlugin);
  await app.register(openApiPlugin);
  await app.register(authPlugin);
  // The RPC's sockets take an addTorrent as big as the REST add's (rpc/transport.ts); the live
  // socket keeps its own smaller cap (realtime/hub.ts).
  await app.register(websocket, { options: { maxPayload: MAX_MESSAGE_BYTES } });

  await app.register(healthRoutes, { prefix: '/api' });
  await app.register(authRoutes, { prefix: '/api/auth' });
  await app.register(userRoutes, { prefix: '/api/users' });
  await app.register(taskRoutes, { prefix: '/api/tasks' });
  await app.register(fileRoutes, { prefix: '/api/files' });
  await app.register(shareRoutes, { prefix: '/api/shares' });
  await app.register(publicShareRoutes, { prefix: '/s' });
  await app.register(statsRoutes, { prefix: '/api/stats' });
  await app.register(configRoutes, { prefix: '/api/config' });
  await app.register(tokenRoutes, { prefix: '/api/tokens' });
  await app.register(socketRoutes);
  await app.register(rpcRoutes, {
    authenticate: (secret) => deps.services.tokens.authenticate(secret),
    events: deps.events,
  });
  await app.register(staticUiPlugin, { root: deps.uiDir ?? null });
  return app;
}
