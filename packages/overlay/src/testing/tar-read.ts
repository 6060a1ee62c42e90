/**
 * Test helper: what a {@link TarReader} saw, entry by entry, for the reader's unit and hostile
 * tests. One copy, so both suites feed the reader the same way.
 */
import { type TarHeader, TarReader } from '../tar-reader.js';

/** One entry as the reader handed it over: its header, its data, and whether it ended. */
export interface Seen {
  header: TarHeader;
  data: Buffer;
  ended: boolean;
}

/** Feeds `pieces` to a reader; resolves with what it saw, or rejects with its error. */
export async function readPieces(pieces: Buffer[]): Promise<{ r: TarReader; seen: Seen[] }> {
  const seen: Seen[] = [];
  const r = new TarReader({
    entry(header) {
      seen.push({ header, data: Buffer.alloc(0), ended: false });
    },
    data(c) {
      const s = seen.at(-1) as Seen;
      s.data = Buffer.concat([s.data, c]);
    },
    end() {
      (seen.at(-1) as Seen).ended = true;
    },
  });
  await new Promise<void>((resolve, reject) => {
    r.on('error', reject);
    r.on('finish', resolve);
    for (const p of pieces) r.write(p);
    r.end();
  });
  return { r, seen };
}

/** Feeds `bytes` to a reader in pieces of `chunk` bytes (one piece by default). */
export function readInChunks(
  bytes: Buffer,
  chunk = bytes.length || 1,
): Promise<{ r: TarReader; seen: Seen[] }> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) pieces.push(bytes.subarray(i, i + chunk));
  return readPieces(pieces);
}
