import { describe, expect, it } from 'vitest';
import { colorEnabled, createColors } from './color.js';
import { createProgressRenderer, progressBar } from './progress.js';

function sink(): { text: string; write(chunk: string): void } {
  return {
    text: '',
    write(chunk: string) {
      this.text += chunk;
    },
  };
}

describe('progressBar', () => {
  it('draws docker bars on a wide terminal', () => {
    expect(progressBar(12_300_000, 45_600_000, 120)).toBe(
      `[=============>${' '.repeat(37)}]   12.3MB/45.6MB`,
    );
  });
  it('shows only counters on a narrow one', () => {
    expect(progressBar(12_300_000, 45_600_000, 80)).toBe('  12.3MB/45.6MB');
  });
  it('shows the current size alone without a total', () => {
    expect(progressBar(2048, undefined, 120)).toBe(' 2.048kB');
  });
});

describe('progress on a TTY', () => {
  it('redraws each id on its own line', () => {
    const out = sink();
    const r = createProgressRenderer({ out, tty: true, columns: 120 });
    r.update({ id: 'a1', status: 'Pulling fs layer' });
    r.update({ id: 'b2', status: 'Pulling fs layer' });
    r.update({ id: 'a1', status: 'Downloading', current: 500, total: 1000 });
    const clear = '\x1b[2K\r';
    expect(out.text).toBe(
      `\n\x1b[1A${clear}a1: Pulling fs layer \r\x1b[1B` +
        `\n\x1b[1A${clear}b2: Pulling fs layer \r\x1b[1B` +
        `\x1b[2A${clear}a1: Downloading [=========================>${' '.repeat(25)}]     500B/1kB\r\x1b[2B`,
    );
  });

  it('starts over after a message without an id', () => {
    const out = sink();
    const r = createProgressRenderer({ out, tty: true });
    r.update({ id: 'a1', status: 'Pull complete' });
    r.update({ status: 'Digest: sha256:abc' });
    r.update({ id: 'a1', status: 'Pull complete' });
    expect(out.text.match(/\n/g)?.length).toBe(3);
    expect(out.text).toContain('Digest: sha256:abc\n\n\x1b[1A');
  });
});

describe('progress without a TTY', () => {
  it('prints one line per status change and no bars', () => {
    const out = sink();
    const r = createProgressRenderer({ out, tty: false, columns: 200 });
    r.update({ id: 'a1', status: 'Downloading', current: 1, total: 10 });
    r.update({ id: 'a1', status: 'Downloading', current: 5, total: 10 });
    r.update({ id: 'a1', status: 'Download complete' });
    r.update({ status: 'Status: Downloaded newer image' });
    expect(out.text).toBe('a1: Downloading\na1: Download complete\nStatus: Downloaded newer image\n');
  });
});

describe('colour', () => {
  it('is on only for a TTY without NO_COLOR', () => {
    expect(colorEnabled({ isTTY: true }, {})).toBe(true);
    expect(colorEnabled({ isTTY: false }, {})).toBe(false);
    expect(colorEnabled({}, {})).toBe(false);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
  });

  it('colours completed and failed statuses only when enabled', () => {
    const on = sink();
    createProgressRenderer({ out: on, tty: false, colors: createColors({ enabled: true }) }).update({
      id: 'a',
      status: 'Pull complete',
    });
    expect(on.text).toBe('a: \x1b[32mPull complete\x1b[39m\n');
    const off = sink();
    createProgressRenderer({ out: off, tty: false, colors: createColors({ enabled: false }) }).update({
      id: 'a',
      status: 'Pull complete',
    });
    expect(off.text).toBe('a: Pull complete\n');
  });
});
