import { isBerthError } from '@berth/oci';
import { describe, expect, it } from 'vitest';
import { cleanArchivePath } from './archive.js';
import { shortId } from './progress.js';
import { registryHost } from './remote.js';

describe('cleanArchivePath', () => {
  it('normalises names inside the archive', () => {
    expect(cleanArchivePath('./manifest.json')).toBe('manifest.json');
    expect(cleanArchivePath('blobs/sha256/')).toBe('blobs/sha256');
    expect(cleanArchivePath('a//b/./c')).toBe('a/b/c');
  });
  it.each(['../x', 'a/../../x', '/etc/passwd', 'a\0b', ''])('refuses %j', (name) => {
    let err: unknown;
    try {
      cleanArchivePath(name);
    } catch (e) {
      err = e;
    }
    expect(isBerthError(err, 'ARCHIVE_INVALID')).toBe(true);
  });
});

describe('registryHost', () => {
  it('turns docker login server arguments into hosts', () => {
    expect(registryHost(undefined)).toBe('docker.io');
    expect(registryHost('https://index.docker.io/v1/')).toBe('docker.io');
    expect(registryHost('localhost:5000/')).toBe('localhost:5000');
    expect(registryHost('http://127.0.0.1:5000')).toBe('127.0.0.1:5000');
  });
});

describe('shortId', () => {
  it('keeps 12 hex digits', () => {
    expect(shortId(`sha256:${'ab'.repeat(32)}`)).toBe('abababababab');
  });
});
