/** What an aria2 client needs to reach this controller's `/jsonrpc`, from the page's own origin. */
export interface ClientSetup {
  rpcUrl: string;
  wsUrl: string;
  host: string;
  port: string;
  protocol: 'http' | 'https';
  secure: boolean;
}

export function clientSetup(origin: string): ClientSetup {
  const url = new URL(origin);
  const secure = url.protocol === 'https:';
  const port = url.port || (secure ? '443' : '80');
  return {
    rpcUrl: `${url.origin}/jsonrpc`,
    wsUrl: `${secure ? 'wss' : 'ws'}://${url.host}/jsonrpc`,
    host: url.hostname,
    port,
    protocol: secure ? 'https' : 'http',
    secure,
  };
}

/** The aria2p command line for this controller (the token is the secret). */
export function aria2pCommand(setup: ClientSetup, token = '<token>'): string {
  const host = `${setup.protocol}://${setup.host}`;
  return `aria2p --host ${host} --port ${setup.port} --secret ${token}`;
}
