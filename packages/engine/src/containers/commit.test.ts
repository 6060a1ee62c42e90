import { isBerthError } from '@berth/oci';
import { describe, expect, it } from 'vitest';
import { applyChanges } from './commit.js';

describe('applyChanges (docker commit --change)', () => {
  it('applies CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL', () => {
    const c = applyChanges({ Env: ['PATH=/bin', 'A=1'], WorkingDir: '/srv' }, [
      'CMD ["echo", "hi"]',
      'entrypoint /bin/app --flag',
      'ENV A=2 B="two words"',
      'ENV C three words',
      'WORKDIR sub',
      'USER nobody:nogroup',
      'LABEL a=b "c d"=e',
      'EXPOSE 80 53/udp',
      'VOLUME /data',
      'STOPSIGNAL SIGINT',
    ]);
    expect(c).toEqual({
      Cmd: ['echo', 'hi'],
      Entrypoint: ['/bin/sh', '-c', '/bin/app --flag'],
      Env: ['PATH=/bin', 'A=2', 'B=two words', 'C=three words'],
      WorkingDir: '/srv/sub',
      User: 'nobody:nogroup',
      Labels: { a: 'b', 'c d': 'e' },
      ExposedPorts: { '80/tcp': {}, '53/udp': {} },
      Volumes: { '/data': {} },
      StopSignal: 'SIGINT',
    });
  });

  it('refuses instructions commit cannot apply, and bad ports', () => {
    for (const bad of ['RUN true', 'FROM busybox', 'EXPOSE 99999', 'USER']) {
      try {
        applyChanges({}, [bad]);
        expect.unreachable(bad);
      } catch (err) {
        expect(isBerthError(err, 'INVALID_OPTION')).toBe(true);
      }
    }
  });
});
