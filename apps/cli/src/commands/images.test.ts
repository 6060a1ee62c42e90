import type { ImageSummary } from '@berth/engine';
import { isBerthError } from '@berth/oci';
import { describe, expect, it } from 'vitest';
import { historyRows } from './history.js';
import { imageFilters, imageRows } from './images.js';

const img = (tags: string[], digests: string[]): ImageSummary => ({
  Id: `sha256:${'1'.repeat(64)}`,
  ParentId: '',
  RepoTags: tags,
  RepoDigests: digests,
  Created: 946684800,
  Size: 1_234_567,
  SharedSize: -1,
  Labels: {},
  Containers: -1,
});
const D = `sha256:${'d'.repeat(64)}`;

describe('imageRows (docker/cli imageFormat)', () => {
  it('one row per tag, digests only with --digests', () => {
    const rows = imageRows([img(['busybox:latest', 'busybox:1', 'localhost:5000/x:2'], [`busybox@${D}`])], {
      digests: false,
      noTrunc: false,
    });
    expect(rows.map((r) => `${r.Repository} ${r.Tag} ${r.Digest} ${r.ID}`)).toEqual([
      'busybox latest <none> 111111111111',
      'busybox 1 <none> 111111111111',
      'localhost:5000/x 2 <none> 111111111111',
    ]);
    const withDigests = imageRows([img(['busybox:latest'], [`busybox@${D}`])], {
      digests: true,
      noTrunc: true,
    });
    expect(withDigests.map((r) => [r.Tag, r.Digest, r.ID])).toEqual([
      ['latest', D, `sha256:${'1'.repeat(64)}`],
    ]);
    expect(withDigests[0]?.Size).toBe('1.23MB');
    expect(withDigests[0]?.CreatedAt).toBe('2000-01-01 00:00:00 +0000 UTC');
  });
  it('a digest-only image is <none> in its repository; an unnamed one <none> <none>', () => {
    expect(
      imageRows([img([], [`busybox@${D}`])], { digests: false, noTrunc: false }).map((r) => [
        r.Repository,
        r.Tag,
      ]),
    ).toEqual([['busybox', '<none>']]);
    expect(
      imageRows([img([], [])], { digests: false, noTrunc: false }).map((r) => [r.Repository, r.Tag]),
    ).toEqual([['<none>', '<none>']]);
  });
});

describe('imageFilters', () => {
  it('parses docker filters', () => {
    expect(imageFilters(['dangling=true', 'reference=busy*', 'label=a=b', 'before=x', 'since=y'])).toEqual({
      dangling: true,
      reference: ['busy*'],
      label: ['a=b'],
      before: 'x',
      since: 'y',
    });
  });
  it.each(['dangling=maybe', 'nokey', 'color=red'])('refuses %j', (f) => {
    let err: unknown;
    try {
      imageFilters([f]);
    } catch (e) {
      err = e;
    }
    expect(isBerthError(err, 'INVALID_FILTER')).toBe(true);
  });
});

describe('historyRows', () => {
  it('truncates commands and IDs unless --no-trunc', () => {
    const long = `/bin/sh -c #(nop) ${'x'.repeat(60)}`;
    const [r] = historyRows(
      [
        {
          Id: `sha256:${'2'.repeat(64)}`,
          Created: 946684800,
          CreatedBy: long,
          Tags: null,
          Size: 1000,
          Comment: '',
        },
      ],
      { human: true, noTrunc: false },
    );
    expect(r?.ID).toBe('222222222222');
    expect([...(r?.CreatedBy ?? '')]).toHaveLength(45);
    expect(r?.Size).toBe('1kB');
  });
});
