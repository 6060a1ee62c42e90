import { describe, expect, it } from 'vitest';
import { parseNetDev } from './net-stats.js';

const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    1200      12    0    0    0     0          0         0     1200      12    0    0    0     0       0          0
  eth0: 5306862    4021    1    2    0     0          0         0   325418    3177    3    4    0     0       0          0
 veth1:0     0    0    0    0     0          0         0        9       1    0    0    0     0       0          0
bad: 1 2 3
`;

describe('parseNetDev', () => {
  it('reads rx/tx counters per interface and leaves out lo', () => {
    const s = parseNetDev(NET_DEV);
    expect(Object.keys(s)).toEqual(['eth0', 'veth1']);
    expect(s.eth0).toEqual({
      rx_bytes: 5306862,
      rx_packets: 4021,
      rx_errors: 1,
      rx_dropped: 2,
      tx_bytes: 325418,
      tx_packets: 3177,
      tx_errors: 3,
      tx_dropped: 4,
    });
    expect(s.veth1?.tx_bytes).toBe(9);
  });

  it('gives nothing for a namespace with only lo', () => {
    expect(parseNetDev(NET_DEV.split('\n').slice(0, 3).join('\n'))).toEqual({});
  });
});
