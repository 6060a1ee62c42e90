import { describe, expect, it } from 'vitest';
import { selfHooks } from './engine-support.js';

describe('selfHooks', () => {
  it("keeps the launcher's moved CA variable for berth's own hooks, never NODE_EXTRA_CA_CERTS", () => {
    const hooks = selfHooks({
      BERTH_ROOT: '/tmp/r',
      PATH: '/bin',
      BERTH_EXTRA_CA_CERTS: '/etc/corp-ca.pem',
      NODE_EXTRA_CA_CERTS: '',
      SECRET: 'x',
    });
    expect(hooks.env).toEqual(['BERTH_ROOT=/tmp/r', 'PATH=/bin', 'BERTH_EXTRA_CA_CERTS=/etc/corp-ca.pem']);
  });
});
