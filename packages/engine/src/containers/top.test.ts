import { isBerthError } from '@berth/oci';
import { describe, expect, it } from 'vitest';
import { parsePs } from './top.js';

const PS_EF = `UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 20:00 ?        00:00:01 /sbin/init
root        4242    4241  0 20:01 ?        00:00:00 sh -c sleep 1000 & wait
root        4243    4242  0 20:01 ?        00:00:00 sleep 1000
`;

describe('parsePs (moby parsePSOutput)', () => {
  it("keeps the container's rows and joins the command's spaces back", () => {
    const top = parsePs(PS_EF, new Set([4242, 4243]));
    expect(top.Titles).toEqual(['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
    expect(top.Processes).toEqual([
      ['root', '4242', '4241', '0', '20:01', '?', '00:00:00', 'sh -c sleep 1000 & wait'],
      ['root', '4243', '4242', '0', '20:01', '?', '00:00:00', 'sleep 1000'],
    ]);
  });

  it('reads a thread row whose PID column is "-" from the second field', () => {
    const text = 'USER PID TID CMD\nroot 10 - sleep\nroot - 11 -\n';
    expect(parsePs(text, new Set([10])).Processes).toEqual([['root', '10', '-', 'sleep']]);
  });

  it('fails without a PID column', () => {
    try {
      parsePs('USER COMMAND\nroot sh\n', new Set([1]));
      expect.unreachable();
    } catch (err) {
      expect(isBerthError(err, 'PS_FAILED')).toBe(true);
      expect((err as Error).message).toBe("Couldn't find PID field in ps output");
    }
  });
});
