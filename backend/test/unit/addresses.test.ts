import { describe, expect, it } from 'vitest';
import { isPublicAddress } from '../../src/domain/addresses.js';

/**
 * Each range of the IANA special-purpose registries with its first and last address (both refused)
 * and, where that neighbour is an ordinary public address, the address just outside each edge.
 */
const V4: [range: string, first: string, last: string, before: string | null, after: string | null][] = [
  ['0.0.0.0/8', '0.0.0.0', '0.255.255.255', null, '1.0.0.0'],
  ['10.0.0.0/8', '10.0.0.0', '10.255.255.255', '9.255.255.255', '11.0.0.0'],
  ['100.64.0.0/10', '100.64.0.0', '100.127.255.255', '100.63.255.255', '100.128.0.0'],
  ['127.0.0.0/8', '127.0.0.0', '127.255.255.255', '126.255.255.255', '128.0.0.0'],
  ['169.254.0.0/16', '169.254.0.0', '169.254.255.255', '169.253.255.255', '169.255.0.0'],
  ['172.16.0.0/12', '172.16.0.0', '172.31.255.255', '172.15.255.255', '172.32.0.0'],
  ['192.0.0.0/24', '192.0.0.0', '192.0.0.255', '191.255.255.255', '192.0.1.0'],
  ['192.0.0.9/32 (PCP anycast)', '192.0.0.9', '192.0.0.9', null, null],
  ['192.0.0.10/32 (TURN anycast)', '192.0.0.10', '192.0.0.10', null, null],
  ['192.0.0.170/31 (NAT64 discovery)', '192.0.0.170', '192.0.0.171', null, null],
  ['192.0.2.0/24', '192.0.2.0', '192.0.2.255', '192.0.1.255', '192.0.3.0'],
  ['192.31.196.0/24', '192.31.196.0', '192.31.196.255', '192.31.195.255', '192.31.197.0'],
  ['192.52.193.0/24', '192.52.193.0', '192.52.193.255', '192.52.192.255', '192.52.194.0'],
  ['192.88.99.0/24', '192.88.99.0', '192.88.99.255', '192.88.98.255', '192.88.100.0'],
  ['192.168.0.0/16', '192.168.0.0', '192.168.255.255', '192.167.255.255', '192.169.0.0'],
  ['192.175.48.0/24', '192.175.48.0', '192.175.48.255', '192.175.47.255', '192.175.49.0'],
  ['198.18.0.0/15', '198.18.0.0', '198.19.255.255', '198.17.255.255', '198.20.0.0'],
  ['198.51.100.0/24', '198.51.100.0', '198.51.100.255', '198.51.99.255', '198.51.101.0'],
  ['203.0.113.0/24', '203.0.113.0', '203.0.113.255', '203.0.112.255', '203.0.114.0'],
  ['224.0.0.0/4 (multicast)', '224.0.0.0', '239.255.255.255', '223.255.255.255', null],
  ['240.0.0.0/4', '240.0.0.0', '255.255.255.254', null, null],
  ['255.255.255.255/32', '255.255.255.255', '255.255.255.255', null, null],
];

const V6: [range: string, first: string, last: string, before: string | null, after: string | null][] = [
  ['::/128', '::', '::', null, null],
  ['::1/128', '::1', '::1', null, null],
  ['::ffff:0:0/96', '::ffff:0.0.0.0', '::ffff:255.255.255.255', null, null],
  ['::ffff:0:0:0/96 (IPv4-translated)', '::ffff:0:0.0.0.0', '::ffff:0:255.255.255.255', null, null],
  ['64:ff9b::/96', '64:ff9b::', '64:ff9b::ffff:ffff', null, null],
  ['64:ff9b:1::/48', '64:ff9b:1::', '64:ff9b:1:ffff:ffff:ffff:ffff:ffff', null, null],
  ['100::/64', '100::', '100::ffff:ffff:ffff:ffff', null, null],
  ['100:0:0:1::/64', '100:0:0:1::', '100::1:ffff:ffff:ffff:ffff', null, null],
  ['2001::/23', '2001::', '2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff', null, '2001:200::'],
  ['2001:1::1/128 (PCP anycast)', '2001:1::1', '2001:1::1', null, null],
  ['2001:2::/48 (benchmarking)', '2001:2::', '2001:2:0:ffff:ffff:ffff:ffff:ffff', null, null],
  ['2001:20::/28 (ORCHIDv2)', '2001:20::', '2001:2f:ffff:ffff:ffff:ffff:ffff:ffff', null, null],
  [
    '2001:db8::/32',
    '2001:db8::',
    '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff',
    '2001:db7:ffff:ffff:ffff:ffff:ffff:ffff',
    '2001:db9::',
  ],
  [
    '2002::/16',
    '2002::',
    '2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    '2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    '2003::',
  ],
  [
    '2620:4f:8000::/48',
    '2620:4f:8000::',
    '2620:4f:8000:ffff:ffff:ffff:ffff:ffff',
    '2620:4f:7fff:ffff:ffff:ffff:ffff:ffff',
    '2620:4f:8001::',
  ],
  [
    '3fff::/20',
    '3fff::',
    '3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff',
    '3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    '3fff:1000::',
  ],
  ['5f00::/16', '5f00::', '5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff', null, null],
  ['fc00::/7', 'fc00::', 'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', null, null],
  ['fe80::/10', 'fe80::', 'febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', null, null],
  ['ff00::/8 (multicast)', 'ff00::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', null, null],
  ['outside 2000::/3', '::2', '1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', null, '2000::'],
  ['outside 2000::/3 (upper)', '4000::', 'fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '3fff:1000::', null],
];

describe('isPublicAddress', () => {
  for (const [range, first, last, before, after] of [...V4, ...V6]) {
    it(`refuses ${range} from ${first} to ${last}${before || after ? ', not its neighbours' : ''}`, () => {
      expect(isPublicAddress(first), first).toBe(false);
      expect(isPublicAddress(last), last).toBe(false);
      if (before) expect(isPublicAddress(before), before).toBe(true);
      if (after) expect(isPublicAddress(after), after).toBe(true);
    });
  }

  it('calls ordinary addresses public', () => {
    for (const a of ['1.1.1.1', '8.8.8.8', '93.184.216.34', '2606:4700:4700::1111', '2a00:1450:4001::1']) {
      expect(isPublicAddress(a), a).toBe(true);
    }
  });

  it('refuses IPv4 inside IPv6 whatever the embedded address, and anything that is not an IP', () => {
    for (const a of [
      '::ffff:127.0.0.1',
      '::ffff:8.8.8.8',
      '::ffff:0:a00:1',
      '::ffff:0:8.8.8.8',
      '::127.0.0.1',
      '::8.8.8.8',
      '64:ff9b::7f00:1',
      'fe80::1%eth0',
      'localhost',
      '',
      '1.2.3',
      '::ffff:1.2.3.4.5',
    ]) {
      expect(isPublicAddress(a), a).toBe(false);
    }
  });
});
