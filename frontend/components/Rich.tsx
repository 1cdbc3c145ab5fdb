import { Fragment, type ReactNode } from 'react';

/**
 * A catalog sentence with elements in it: `[[name]]` marks where `parts.name` goes, so each language
 * places the code or link where its grammar wants it.
 */
export function Rich({ text, parts }: { text: string; parts: Record<string, ReactNode> }) {
  const pieces = text.split(/\[\[(\w+)\]\]/);
  return (
    <>
      {pieces.map((piece, i) => (
        // Odd pieces are the names between the markers.
        // biome-ignore lint/suspicious/noArrayIndexKey: the pieces of one sentence never move
        <Fragment key={i}>{i % 2 === 1 ? (parts[piece] ?? null) : piece}</Fragment>
      ))}
    </>
  );
}
