/**
 * `@berth/runtime`, imported on first use (a lock, a mount, a container method): `berth version`
 * and image listing never initialise the runtime's modules (seccomp tables, cgroup drivers). On
 * load it becomes `@berth/oci`'s crypto provider: from then on oci's `sha256`, `randomBytes` and
 * `randomInt` (record and snapshot keys, container IDs and names, temp names, a config blob's
 * digest check) are the runtime addon's OpenSSL SHA-256 and getrandom(2). node:crypto, with the
 * 17 stream modules it loads and OpenSSL's provider set-up, was ~3 ms of CPU of every `berth run`.
 */
import { setCryptoProvider } from '@berth/oci';

let loaded: Promise<typeof import('@berth/runtime')> | undefined;

/** The runtime module, imported once; the crypto provider is installed before it resolves. */
export function runtimeModule(): Promise<typeof import('@berth/runtime')> {
  loaded ??= import('@berth/runtime').then((m) => {
    setCryptoProvider(m.sysCryptoProvider);
    return m;
  });
  return loaded;
}
