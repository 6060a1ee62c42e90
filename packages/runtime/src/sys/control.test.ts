import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadAddon } from './addon.js';

let dir: string;
let server: Server | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), `berth-sys-control${process.pid}-`));
});
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** A unix socket server at `dir/control.sock` that answers each request with `answer`. */
async function serve(answer: (request: string, sock: Socket) => void): Promise<string> {
  const path = join(dir, 'control.sock');
  server = createServer((sock) => {
    let data = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      data += chunk;
      if (data.includes('\n')) answer(data, sock);
    });
  });
  await new Promise<void>((resolve) => server?.listen(path, resolve));
  return path;
}

describe('controlAsync (a request line on a unix socket, from the addon)', () => {
  it('writes the request and resolves with the first reply line, without its newline', async () => {
    const seen: string[] = [];
    const path = await serve((request, sock) => {
      seen.push(request);
      sock.end('started 4242\nnot this one\n');
    });
    await expect(loadAddon().controlAsync(path, 'start\n')).resolves.toBe('started 4242');
    expect(seen).toEqual(['start\n']);
  });

  it('reads a reply that arrives in pieces', async () => {
    const path = await serve((_request, sock) => {
      sock.write('err');
      setTimeout(() => sock.end('or start "no such file"\n'), 20);
    });
    await expect(loadAddon().controlAsync(path, 'start\n')).resolves.toBe('error start "no such file"');
  });

  it('resolves null when the other end closes without a full line', async () => {
    const path = await serve((_request, sock) => sock.end('half a li'));
    await expect(loadAddon().controlAsync(path, 'kill 15\n')).resolves.toBeNull();
  });

  it('resolves with the errno when nothing listens there, or the path does not fit sun_path', async () => {
    await expect(loadAddon().controlAsync(join(dir, 'gone.sock'), 'start\n')).resolves.toBe(2); // ENOENT
    await expect(loadAddon().controlAsync(`/${'x'.repeat(200)}`, 'start\n')).resolves.toBe(36); // ENAMETOOLONG
  });
});
