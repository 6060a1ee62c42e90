import { isBerthError } from '@berth/oci';
import { describe, expect, it } from 'vitest';
import { parseUserns, subIdRanges } from './userns.js';

function refused(o: Parameters<typeof parseUserns>[0]): string {
  try {
    parseUserns(o);
  } catch (err) {
    expect(isBerthError(err, 'INVALID_OPTION') || isBerthError(err, 'INVALID_ID_MAPPING')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('accepted');
}

describe('parseUserns (podman flags)', () => {
  it('host by default; --gidmap defaults to the --uidmap maps; auto takes size=', () => {
    expect(parseUserns({})).toEqual({ kind: 'host' });
    expect(parseUserns({ userns: 'host' })).toEqual({ kind: 'host' });
    const m = { containerID: 0, hostID: 100000, size: 65536 };
    expect(parseUserns({ uidmap: ['0:100000:65536'] })).toEqual({
      kind: 'maps',
      maps: { uidMappings: [m], gidMappings: [m] },
    });
    expect(parseUserns({ uidmap: ['0:1:1,1:100000:10'], gidmap: ['0:5:1'] })).toEqual({
      kind: 'maps',
      maps: {
        uidMappings: [
          { containerID: 0, hostID: 1, size: 1 },
          { containerID: 1, hostID: 100000, size: 10 },
        ],
        gidMappings: [{ containerID: 0, hostID: 5, size: 1 }],
      },
    });
    expect(parseUserns({ userns: 'auto' })).toEqual({ kind: 'auto', size: 65536 });
    expect(parseUserns({ userns: 'auto:size=1024' })).toEqual({ kind: 'auto', size: 1024 });
  });

  it('refuses conflicts and bad values naming the flag', () => {
    expect(refused({ gidmap: ['0:1:1'] })).toMatch(/--gidmap needs --uidmap/);
    expect(refused({ userns: 'host', uidmap: ['0:1:1'] })).toMatch(/conflicts/);
    expect(refused({ userns: 'auto', uidmap: ['0:1:1'] })).toMatch(/conflicts/);
    expect(refused({ userns: 'keep-id' })).toMatch(/invalid --userns "keep-id"/);
    expect(refused({ userns: 'auto:size=0' })).toMatch(/size=N/);
    expect(refused({ uidmap: ['0:1:1', '0:2:1'] })).toMatch(/uidmap.*overlaps/);
  });
});

describe('subIdRanges', () => {
  it("reads a user's ranges from /etc/subuid text, ignoring others and junk", () => {
    expect(
      subIdRanges('root:100000:65536\ncontainers:2147483647:2147483648\n#x\ncontainers:1:x\n', 'containers'),
    ).toEqual([{ start: 2147483647, count: 2147483648 }]);
  });
});
