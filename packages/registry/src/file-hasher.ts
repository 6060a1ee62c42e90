/**
 * Hashing ingest files on a worker thread, so a pull's main thread only moves bytes. The layout
 * sink writes a batch, then tells the worker how far the file is written; the worker reads that
 * range back (from the page cache, into one reused buffer) and hashes it on its own thread. The
 * digest is asked for at commit, before anything is renamed into `blobs/`.
 *
 * Why by file and not by message: posting the bytes copies each one on the main thread (a
 * structured clone), which costs about what hashing them there does; reading them back costs the
 * worker a copy, on its own thread. One worker serves every ingest of the process; it is started
 * on the first large ingest (the boot, ~40 ms of CPU, runs on its own thread, meanwhile) and
 * holds the process open only while a commit waits for a digest.
 */
import { Worker } from 'node:worker_threads';
import type { Digest, DigestAlgorithm } from '@berth/oci';

// The worker's code, as a script (no file to locate next to a bundle). Messages:
// { id, open: path, algorithm } | { id, upto: bytes, end?: true } | { id, drop: true }.
// It answers { id, digest } after `end`, or { id, error } once, after which it forgets `id`.
const WORKER_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync } = require('node:fs');
const buffer = Buffer.allocUnsafe(1024 * 1024);
const jobs = new Map();
const forget = (id) => {
  const job = jobs.get(id);
  if (job === undefined) return;
  jobs.delete(id);
  try { closeSync(job.fd); } catch {}
};
parentPort.on('message', (m) => {
  try {
    if (m.open !== undefined) {
      jobs.set(m.id, { fd: openSync(m.open, 'r'), hash: createHash(m.algorithm), at: 0, algorithm: m.algorithm });
      return;
    }
    if (m.drop) return forget(m.id);
    const job = jobs.get(m.id);
    if (job === undefined) return;
    while (job.at < m.upto) {
      const n = readSync(job.fd, buffer, 0, Math.min(buffer.length, m.upto - job.at), job.at);
      if (n === 0) throw new Error('ingest ends at byte ' + job.at + ' of ' + m.upto);
      job.hash.update(n === buffer.length ? buffer : buffer.subarray(0, n));
      job.at += n;
    }
    if (m.end) {
      forget(m.id);
      parentPort.postMessage({ id: m.id, digest: job.algorithm + ':' + job.hash.digest('hex') });
    }
  } catch (err) {
    forget(m.id);
    parentPort.postMessage({ id: m.id, error: String((err && err.message) || err) });
  }
});
`;

type Reply = { id: number; digest?: string; error?: string };

interface Job {
  /** The worker's error for this job, reported at `digest()`. */
  error?: Error;
  settle?: (reply: { digest?: Digest; error?: Error }) => void;
}

let worker: Worker | undefined;
let nextId = 1;
const jobs = new Map<number, Job>();
/** Digests asked for and not yet answered: the worker holds the process open only for these. */
let waiting = 0;

function failAll(err: Error): void {
  worker = undefined;
  for (const [id, job] of jobs) {
    if (job.settle) {
      jobs.delete(id);
      waiting--;
      job.settle({ error: err });
    } else job.error ??= err;
  }
}

function started(): Worker {
  if (worker !== undefined) return worker;
  const w = new Worker(WORKER_SOURCE, {
    eval: true,
    name: 'berth-registry-hash',
    // It holds a 1 MiB buffer and one hash state per ingest: a small heap keeps its RSS small.
    resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 },
  });
  w.on('message', (reply: Reply) => {
    const job = jobs.get(reply.id);
    if (job === undefined) return;
    const result =
      reply.error !== undefined
        ? { error: new Error(`hashing the ingest failed: ${reply.error}`) }
        : { digest: reply.digest as Digest };
    if (job.settle) {
      jobs.delete(reply.id);
      if (--waiting === 0) w.unref();
      job.settle(result);
    } else if (result.error) job.error = result.error;
  });
  w.on('error', (err) => failAll(err));
  w.on('exit', (code) => {
    if (worker === w) failAll(new Error(`hash worker exited (code ${code})`));
  });
  w.unref();
  worker = w;
  return w;
}

/** The running hash of one ingest file, computed on the worker from what is written so far. */
export class FileHash {
  readonly #id: number;
  readonly #worker: Worker;
  #done = false;

  /** Starts hashing `path` from byte 0 with `algorithm`. */
  constructor(path: string, algorithm: DigestAlgorithm) {
    this.#worker = started();
    this.#id = nextId++;
    jobs.set(this.#id, {});
    this.#worker.postMessage({ id: this.#id, open: path, algorithm });
  }

  /** The file holds `bytes` bytes from its start (written and settled): hash up to there. */
  written(bytes: number): void {
    if (!this.#done) this.#worker.postMessage({ id: this.#id, upto: bytes });
  }

  /** The digest of the file's first `bytes` bytes (its whole content). */
  digest(bytes: number): Promise<Digest> {
    if (this.#done) return Promise.reject(new Error('file hash already finished'));
    this.#done = true;
    const job = jobs.get(this.#id);
    if (job === undefined || job.error !== undefined) {
      jobs.delete(this.#id);
      this.#worker.postMessage({ id: this.#id, drop: true });
      return Promise.reject(job?.error ?? new Error('hash worker stopped'));
    }
    return new Promise((resolve, reject) => {
      job.settle = ({ digest, error }) => (digest !== undefined ? resolve(digest) : reject(error));
      if (waiting++ === 0) this.#worker.ref();
      this.#worker.postMessage({ id: this.#id, upto: bytes, end: true });
    });
  }

  /** Stops hashing (the ingest is aborted or kept for later). */
  drop(): void {
    if (this.#done) return;
    this.#done = true;
    jobs.delete(this.#id);
    this.#worker.postMessage({ id: this.#id, drop: true });
  }
}
