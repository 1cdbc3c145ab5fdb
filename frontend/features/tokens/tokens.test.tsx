import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { aria2pCommand, clientSetup } from './client-setup';
import { ClientHelp } from './TokensSection';

describe('aria2 client setup', () => {
  it('derives the RPC and WebSocket URLs, host, port and protocol from the origin', () => {
    expect(clientSetup('https://dl.example.org')).toEqual({
      rpcUrl: 'https://dl.example.org/jsonrpc',
      wsUrl: 'wss://dl.example.org/jsonrpc',
      host: 'dl.example.org',
      port: '443',
      protocol: 'https',
      secure: true,
    });
    const local = clientSetup('http://127.0.0.1:8000');
    expect(local).toMatchObject({
      rpcUrl: 'http://127.0.0.1:8000/jsonrpc',
      wsUrl: 'ws://127.0.0.1:8000/jsonrpc',
      port: '8000',
    });
    expect(aria2pCommand(local, 'a2c_x')).toBe('aria2p --host http://127.0.0.1 --port 8000 --secret a2c_x');
  });

  it('shows the URLs and the steps for AriaNg, a browser extension and aria2p', () => {
    const html = renderToStaticMarkup(<ClientHelp setup={clientSetup('http://127.0.0.1:8000')} />);
    expect(html).toContain('Use with aria2 clients');
    expect(html).toContain('http://127.0.0.1:8000/jsonrpc');
    expect(html).toContain('ws://127.0.0.1:8000/jsonrpc');
    expect(html).toContain('AriaNg');
    expect(html).toContain('aria2p --host http://127.0.0.1 --port 8000 --secret &lt;token&gt;');
  });
});
