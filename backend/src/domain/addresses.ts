import net from 'node:net';

/**
 * Every range of the IANA IPv4 Special-Purpose Address Registry (globally reachable or not: none of
 * them is a place a user's download should go), plus multicast and the reserved 240.0.0.0/4 block.
 */
export const V4_NON_PUBLIC: readonly (readonly [string, number, string])[] = [
  ['0.0.0.0', 8, '"this network"'],
  ['10.0.0.0', 8, 'private-use'],
  ['100.64.0.0', 10, 'shared address space (CGNAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private-use'],
  ['192.0.0.0', 24, 'IETF protocol assignments (DS-Lite, PCP and TURN anycast, NAT64 discovery)'],
  ['192.0.2.0', 24, 'documentation (TEST-NET-1)'],
  ['192.31.196.0', 24, 'AS112-v4'],
  ['192.52.193.0', 24, 'AMT'],
  ['192.88.99.0', 24, 'deprecated 6to4 relay anycast'],
  ['192.168.0.0', 16, 'private-use'],
  ['192.175.48.0', 24, 'direct delegation AS112 service'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation (TEST-NET-2)'],
  ['203.0.113.0', 24, 'documentation (TEST-NET-3)'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved, limited broadcast included'],
];

/**
 * Every range of the IANA IPv6 Special-Purpose Address Registry, plus multicast. Addresses outside
 * 2000::/3 (the only block IANA hands out as global unicast) are refused as well, which also covers
 * the IPv4-mapped, IPv4-translated (::ffff:0:a.b.c.d) and IPv4-compatible forms.
 */
export const V6_NON_PUBLIC: readonly (readonly [string, number, string])[] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['::ffff:0:0', 96, 'IPv4-mapped'],
  ['64:ff9b::', 96, 'IPv4/IPv6 translation'],
  ['64:ff9b:1::', 48, 'local-use IPv4/IPv6 translation'],
  ['100::', 64, 'discard-only'],
  ['100:0:0:1::', 64, 'dummy prefix'],
  ['2001::', 23, 'IETF protocol assignments (Teredo, benchmarking, AMT, AS112, ORCHID, drone ID)'],
  ['2001:db8::', 32, 'documentation'],
  ['2002::', 16, '6to4'],
  ['2620:4f:8000::', 48, 'direct delegation AS112 service'],
  ['3fff::', 20, 'documentation'],
  ['5f00::', 16, 'segment routing (SRv6) SIDs'],
  ['fc00::', 7, 'unique-local'],
  ['fe80::', 10, 'link-local'],
  ['ff00::', 8, 'multicast'],
];

// Two lists: BlockList matches an IPv4 address against IPv6 rules for ::ffff:0:0/96 too.
const blockedV4 = new net.BlockList();
for (const [base, bits] of V4_NON_PUBLIC) blockedV4.addSubnet(base, bits, 'ipv4');
const blockedV6 = new net.BlockList();
for (const [base, bits] of V6_NON_PUBLIC) blockedV6.addSubnet(base, bits, 'ipv6');
const globalUnicast = new net.BlockList();
globalUnicast.addSubnet('2000::', 3, 'ipv6');

/**
 * Whether an IP address is public: in none of the special-purpose ranges above. The network guard
 * refuses the rest unless private networks are allowed. Anything that is not an IP literal is not public.
 */
export function isPublicAddress(address: string): boolean {
  const kind = net.isIP(address);
  if (kind === 4) return !blockedV4.check(address, 'ipv4');
  if (kind !== 6) return false;
  // A zone index (fe80::1%eth0) only ever goes with link-local and similar scoped addresses.
  if (address.includes('%')) return false;
  return globalUnicast.check(address, 'ipv6') && !blockedV6.check(address, 'ipv6');
}
