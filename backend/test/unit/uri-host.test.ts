import { describe, expect, it } from 'vitest';
import { uriHost } from '../../src/domain/uri.js';
import { magnetSources } from '../../src/services/network.js';

describe('uriHost (the host aria2 connects to)', () => {
  it('reads the host after the only @ and the port, the way aria2 does', () => {
    expect(uriHost('http://example.com/a')).toEqual({ host: 'example.com', port: null });
    expect(uriHost('https://User:P%40ss@Example.COM:8443/a?b#c')).toEqual({
      host: 'example.com',
      port: 8443,
    });
    expect(uriHost('ftp://u@10.0.0.1:21/x')).toEqual({ host: '10.0.0.1', port: 21 });
    expect(uriHost('http://[2001:db8::1]:8080/')).toEqual({ host: '2001:db8::1', port: 8080 });
    expect(uriHost('sftp://u:p@host_name.example/x')).toEqual({ host: 'host_name.example', port: null });
    // '#' and '?' end the authority for both parsers.
    expect(uriHost('http://1.1.1.1#@127.0.0.1/')).toEqual({ host: '1.1.1.1', port: null });
    expect(uriHost('http://1.1.1.1?@127.0.0.1/')).toEqual({ host: '1.1.1.1', port: null });
  });

  it('refuses every form the two parsers could read differently', () => {
    const refused: [string, RegExp][] = [
      ['ftp://1.1.1.1\\@127.0.0.1:2121/x', /backslash/],
      ['http://1.1.1.1\\@127.0.0.1/x', /backslash/],
      ['http://a/b\\c', /backslash/],
      ['http://a@b@127.0.0.1/', /more than one '@'/],
      ['http://u:p@1.1.1.1@127.0.0.1/', /more than one '@'/],
      ['http://exa%6dple.com/', /not a plain host/],
      ['http://1.1.1.1%40127.0.0.1/', /not a plain host/],
      ['http://ex\u00e4mple.com/', /not plain ASCII/],
      ['http://a..b/', /not a plain host/],
      ['http://.a/', /not a plain host/],
      ['http://localhost./', /not a plain host/],
      ['http://127.1/', /read in more than one way/],
      ['http://0x7f.0.0.1/', /read in more than one way/],
      ['http://2130706433/', /read in more than one way/],
      ['http://0177.0.0.1/', /read in more than one way/],
      ['http://[fe80::1%25eth0]/', /IPv6 host/],
      ['http://[127.0.0.1]/', /IPv6 host/],
      ['http://h:/', /port/],
      ['http://h:0/', /port/],
      ['http://h:65536/', /port/],
      ['http://h:+80/', /port/],
      ['http:/h/', /scheme:\/\/host/],
      ['http:h/', /scheme:\/\/host/],
      ['http:///x', /not a plain host/],
    ];
    for (const [uri, reason] of refused) {
      const r = uriHost(uri);
      expect('refused' in r ? r.refused : `accepted as ${JSON.stringify(r)}`, uri).toMatch(reason);
    }
  });
});

describe('magnetSources', () => {
  it('decodes every tr, ws, as and xs value (numbered ones too) and nothing else', () => {
    const uri =
      'magnet:?xt=urn:btih:' +
      'a'.repeat(40) +
      '&dn=x&tr=http%3A%2F%2Ft1%2Fa&tr.1=udp://t2:80&ws=http://seed/&as=http://as/&xs=http://xs/&x.pe=1.2.3.4:5';
    expect(magnetSources(uri)).toEqual([
      'http://t1/a',
      'udp://t2:80',
      'http://seed/',
      'http://as/',
      'http://xs/',
    ]);
  });
});
