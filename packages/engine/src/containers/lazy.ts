/**
 * The container service loaded on first use: `@berth/runtime` (seccomp profiles, cgroup
 * drivers) and the container code are imported only when a container method runs, so image
 * commands and `berth version` never load them.
 */
import type { EngineContext } from '../context.js';
import { runtimeModule } from '../runtime-module.js';
import type { ContainerService, ContainerServiceOptions } from './service.js';

/** A {@link ContainerService} whose implementation is imported on the first call. */
export function lazyContainerService(ctx: EngineContext, opts: ContainerServiceOptions): ContainerService {
  let impl: Promise<ContainerService> | undefined;
  const load = () => {
    // the runtime first: the service's first hash (the image config's digest check) and random
    // ID then go through its crypto provider (runtime-module.ts)
    impl ??= runtimeModule()
      .then(() => import('./service.js'))
      .then((m) => m.createContainerService(ctx, opts));
    return impl;
  };
  return {
    create: async (o) => (await load()).create(o),
    start: async (ref, o) => (await load()).start(ref, o),
    stop: async (ref, o) => (await load()).stop(ref, o),
    kill: async (ref, o) => (await load()).kill(ref, o),
    restart: async (ref, o) => (await load()).restart(ref, o),
    remove: async (ref, o) => (await load()).remove(ref, o),
    wait: async (ref, o) => (await load()).wait(ref, o),
    list: async (o) => (await load()).list(o),
    inspect: async (ref, o) => (await load()).inspect(ref, o),
    logs: async (ref, o) => (await load()).logs(ref, o),
    rename: async (ref, n) => (await load()).rename(ref, n),
    prune: async (o) => (await load()).prune(o),
    pause: async (ref, o) => (await load()).pause(ref, o),
    unpause: async (ref, o) => (await load()).unpause(ref, o),
    top: async (ref, o) => (await load()).top(ref, o),
    stats: async (ref) => (await load()).stats(ref),
    changes: async (ref) => (await load()).changes(ref),
    export: async (ref, o) => (await load()).export(ref, o),
    commit: async (ref, o) => (await load()).commit(ref, o),
    resolve: async (ref) => (await load()).resolve(ref),
    usesImage: async (id) => (await load()).usesImage(id),
    handleExit: async (ref, o) => (await load()).handleExit(ref, o),
    healthcheck: async (ref, o) => (await load()).healthcheck(ref, o),
    boot: async (o) => (await load()).boot(o),
    attach: async (ref, o) => (await load()).attach(ref, o),
    startAttached: async (ref, o) => (await load()).startAttached(ref, o),
    resize: async (ref, size) => (await load()).resize(ref, size),
    exec: async (ref, o) => (await load()).exec(ref, o),
  };
}
