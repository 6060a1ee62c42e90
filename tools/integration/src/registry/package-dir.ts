import { createRequire } from 'node:module';
import { dirname } from 'node:path';

/** The @berth/registry package's directory: its demo CLI's build (`dist/`) and sources. */
export const registryDir = dirname(createRequire(import.meta.url).resolve('@berth/registry/package.json'));
