/** A magnet link for a task: its own URI when it is one, else built from the torrent's info hash. */
export function magnetFor(input: {
  uri: string;
  name?: string | null;
  infoHash?: string | null;
  trackers?: readonly string[];
}): string | null {
  if (input.uri.toLowerCase().startsWith('magnet:')) return input.uri;
  if (!input.infoHash) return null;
  const parts = [`xt=urn:btih:${input.infoHash}`];
  if (input.name) parts.push(`dn=${encodeURIComponent(input.name)}`);
  for (const tracker of input.trackers ?? []) parts.push(`tr=${encodeURIComponent(tracker)}`);
  return `magnet:?${parts.join('&')}`;
}
