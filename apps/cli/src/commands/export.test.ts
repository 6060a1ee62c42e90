import { describe, expect, it } from 'vitest';
import type { CliIO } from '../io.js';
import { runCli } from '../run-cli.js';

describe('berth export', () => {
  it('refuses to write a tar to a terminal, as docker does, before touching any state', async () => {
    let out = '';
    let err = '';
    const io: CliIO = {
      env: { BERTH_ROOT: '/nonexistent/berth-export-test' },
      stdout: { write: (s: string) => (out += s), isTTY: true },
      stderr: { write: (s: string) => (err += s) },
    };
    expect(await runCli(['export', 'web'], io)).toBe(125);
    expect(out).toBe('');
    expect(err).toBe('cowardly refusing to save to a terminal. Use the -o flag or redirect\n');
  });
});
