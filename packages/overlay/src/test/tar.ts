// Test support (not exported): small tars built with tar-stream.
import { createHash } from 'node:crypto';
import tar from 'tar-stream';

/** A tar entry for {@link tarOf}. */
export type TestEntry = Partial<tar.Header> & {
  name: string;
  content?: string | Buffer;
  pax?: Record<string, string>;
};

/** Builds an uncompressed tar. */
export async function tarOf(entries: TestEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const { content, ...h } of entries) {
    await new Promise<void>((resolve, reject) =>
      pack.entry(
        { mode: h.type === 'directory' ? 0o755 : 0o644, mtime: new Date(946684800000), ...h },
        content ?? '',
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** `sha256:<hex>` of bytes. */
export const sha256 = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
