/**
 * The client side of attach: one connection to the shim's control socket carrying the
 * container's output as docker's stdcopy frames and the caller's input as raw bytes
 * (native/launch.h, CONTROL `attach`). Detach keys are handled here, on the client, as docker's
 * CLI does: the shim never sees them.
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { BerthError } from '@berth/oci';
import { parseShimMessage } from './shim-protocol.js';

let net: typeof import('node:net') | undefined;

/**
 * A connection to a unix socket through `node:net`, required on first use: a `berth run` without
 * `-i`/`-t` and a `run -d` never attach, and their control requests go through the addon
 * (runtime.ts, `control`). A require, not `import()`: the CLI's bundle runs in a `vm.Script`,
 * which has no loader for a dynamic import of a built-in.
 */
export function connectSocket(path: string): Socket {
  net ??= createRequire(import.meta.url ?? '/')('node:net') as typeof import('node:net');
  return net.connect({ path });
}

/** Error codes thrown by attach. */
export const AttachErrorCode = { INVALID_DETACH_KEYS: 'INVALID_DETACH_KEYS' } as const;
/** Union of {@link AttachErrorCode} values. */
export type AttachErrorCode = (typeof AttachErrorCode)[keyof typeof AttachErrorCode];

/** Docker's default detach sequence. */
export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** Options of {@link Runtime.attach}. */
export interface AttachOptions {
  /** Sent to the container's stdin (its pty, or its stdin pipe when created with openStdin). */
  stdin?: Readable;
  stdout: Writable;
  /** Where stderr frames go (no-tty containers); defaults to stdout. */
  stderr?: Writable;
  /** The container has a terminal: output is one raw stream, as docker's attach shows it. */
  tty: boolean;
  /** docker's `--detach-keys` (`ctrl-p,ctrl-q` by default); `''` disables detaching. */
  detachKeys?: string;
  /** Close the container's stdin pipe when `stdin` ends (docker's StdinOnce; no-tty only). */
  closeStdin?: boolean;
  signal?: AbortSignal;
}

/** Why an attach ended. */
export type AttachEnd = 'exited' | 'detached' | 'closed';

/** A live attach, from {@link Runtime.attach}. */
export interface AttachHandle {
  /** Sets the container's window size (its pty). */
  resize(size: { rows: number; cols: number }): Promise<void>;
  /** Detaches: closes the connection, the container keeps running. */
  close(): void;
  /** Settles when the stream ends: the container exited, the detach keys were typed, or close(). */
  readonly done: Promise<AttachEnd>;
}

/**
 * Parses docker's detach-keys syntax (`ctrl-p,ctrl-q`, `ctrl-@`, `ctrl-[`, single characters),
 * as moby's `term.ToBytes`.
 *
 * @throws BerthError INVALID_DETACH_KEYS naming the key
 */
export function parseDetachKeys(keys: string): Uint8Array {
  if (keys === '') return new Uint8Array();
  const out: number[] = [];
  for (const key of keys.split(',')) {
    const k = key.trim().toLowerCase();
    if (k.length === 1 && key.trim().length === 1) {
      out.push(key.trim().charCodeAt(0));
      continue;
    }
    const m = /^ctrl-([a-z@[\\\]^_])$/.exec(k);
    if (!m)
      throw new BerthError('INVALID_DETACH_KEYS', `detach keys "${keys}": unknown key "${key}"`, {
        input: { field: 'detachKeys' },
      });
    const c = m[1]!;
    // ctrl-a..ctrl-z are 1..26; ctrl-@ [ \ ] ^ _ are 0 and 27..31
    out.push(c >= 'a' && c <= 'z' ? c.charCodeAt(0) - 96 : c.charCodeAt(0) - 64);
  }
  return Uint8Array.from(out);
}

/**
 * Scans input for the detach sequence. Bytes of a partial match are held back and released if
 * the sequence breaks (docker's escapeProxy), so nothing typed is lost.
 */
export class DetachFilter {
  private held = 0;
  constructor(private readonly keys: Uint8Array) {}
  /** Returns the bytes to forward, and whether the full sequence was seen (then stop reading). */
  push(chunk: Uint8Array): { forward: Buffer; detached: boolean } {
    if (this.keys.length === 0) return { forward: Buffer.from(chunk), detached: false };
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.held]) {
        this.held++;
        if (this.held === this.keys.length) return { forward: Buffer.from(out), detached: true };
        continue;
      }
      for (let i = 0; i < this.held; i++) out.push(this.keys[i]!);
      this.held = 0;
      if (b === this.keys[0]) this.held = 1;
      else out.push(b);
    }
    return { forward: Buffer.from(out), detached: false };
  }
}

/** Splits the shim's stdcopy frames (8-byte header: stream, 0, 0, 0, big-endian length). */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);
  /** Feeds bytes; calls `onFrame(stream, data)` for each complete frame (1 stdout, 2 stderr). */
  push(chunk: Buffer, onFrame: (stream: number, data: Buffer) => void): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 8) {
      const stream = this.buf[0]!;
      const len = this.buf.readUInt32BE(4);
      if (stream < 1 || stream > 2 || this.buf[1] !== 0 || this.buf[2] !== 0 || this.buf[3] !== 0)
        throw new BerthError(
          'SHIM_PROTOCOL',
          `attach: bad frame header ${this.buf.subarray(0, 8).toString('hex')}`,
        );
      if (this.buf.length < 8 + len) return;
      onFrame(stream, this.buf.subarray(8, 8 + len));
      this.buf = this.buf.subarray(8 + len);
    }
  }
}

/** Opens an attach on a shim control socket (`attach <stdin> <close-stdin>`). */
export function attachSocket(
  path: string,
  id: string,
  opts: AttachOptions,
  resize: (size: { rows: number; cols: number }) => Promise<void>,
): Promise<AttachHandle> {
  const keys = parseDetachKeys(opts.detachKeys ?? DEFAULT_DETACH_KEYS);
  return new Promise((resolveHandle, reject) => {
    const sock: Socket = connectSocket(path);
    let head = Buffer.alloc(0);
    let attached = false;
    let end: AttachEnd = 'exited';
    let settle: (e: AttachEnd) => void = () => {};
    const done = new Promise<AttachEnd>((r) => {
      settle = r;
    });
    const decoder = new FrameDecoder();
    const filter = new DetachFilter(keys);
    const stdin = opts.stdin;
    const onStdin = (chunk: Buffer | string) => {
      const { forward, detached } = filter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      if (forward.length) sock.write(forward);
      if (detached) {
        end = 'detached';
        sock.destroy();
      }
    };
    const onStdinEnd = () => {
      if (!sock.destroyed) sock.end();
    };
    const cleanup = () => {
      stdin?.off('data', onStdin);
      stdin?.off('end', onStdinEnd);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      end = 'closed';
      sock.destroy();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const deliver = (data: Buffer) =>
      decoder.push(data, (stream, bytes) => {
        const target = stream === 2 && !opts.tty ? (opts.stderr ?? opts.stdout) : opts.stdout;
        target.write(bytes);
      });
    sock.on('connect', () => sock.write(`attach ${stdin ? 1 : 0} ${opts.closeStdin ? 1 : 0}\n`));
    sock.on('data', (chunk: Buffer) => {
      if (attached) {
        try {
          deliver(chunk);
        } catch (err) {
          sock.destroy(err as Error);
        }
        return;
      }
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(0x0a);
      if (nl < 0) return;
      let reply: ReturnType<typeof parseShimMessage>;
      try {
        reply = parseShimMessage(head.subarray(0, nl).toString('utf8'));
      } catch (err) {
        sock.destroy();
        reject(err);
        return;
      }
      if (reply.type !== 'ok') {
        sock.destroy();
        reject(
          new BerthError(
            'CONTAINER_NOT_RUNNING',
            `container ${id}: attach: ${reply.type === 'error' ? reply.message : reply.type}`,
          ),
        );
        return;
      }
      attached = true;
      const rest = head.subarray(nl + 1);
      head = Buffer.alloc(0);
      if (rest.length) deliver(rest);
      if (stdin) {
        stdin.on('data', onStdin);
        stdin.on('end', onStdinEnd);
      }
      resolveHandle({
        resize,
        close: () => {
          end = 'closed';
          sock.destroy();
        },
        done,
      });
    });
    sock.on('error', (err) => {
      if (!attached) {
        cleanup();
        reject(
          new BerthError('CONTAINER_NOT_RUNNING', `container ${id}: its shim is not reachable`, {
            cause: err,
          }),
        );
      }
    });
    sock.on('close', () => {
      cleanup();
      if (attached) settle(end);
    });
  });
}
