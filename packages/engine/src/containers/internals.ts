/**
 * What the container service lends its command modules (pause.ts, top.ts, stats.ts, changes.ts,
 * export.ts, commit.ts): the records, the runtime, the live state merged from the runtime, the
 * per-container lock and the snapshotter. Internal; not exported from the package.
 */
import type { Snapshotter } from '@berth/overlay';
import type { Runtime } from '@berth/runtime';
import type { EngineContext } from '../context.js';
import type { RecordStore } from './record.js';
import type { ContainerRecord, ContainerStateInfo } from './types.js';

/** The container service's internals, as its command modules use them. */
export interface ServiceInternals {
  readonly ctx: EngineContext;
  readonly records: RecordStore;
  /** The runtime (berth-shim); every container's shim answers it, whichever runtime created it. */
  runtime(): Promise<Runtime>;
  /** The record's state merged with the runtime's truth (no writes). */
  liveState(rt: Runtime, rec: ContainerRecord): Promise<ContainerStateInfo>;
  /** Runs fn on the record under the container's lock; CONTAINER_NOT_FOUND when it went away. */
  locked<T>(
    ref: string,
    fn: (rec: ContainerRecord, rt: Runtime) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T>;
  /** The record of a reference, unlocked. @throws CONTAINER_NOT_FOUND, CONTAINER_AMBIGUOUS */
  read(ref: string): Promise<ContainerRecord>;
  snapshotter(): Promise<Snapshotter>;
  /** `<root>/containers/<id>`. */
  dir(id: string): string;
  /** Appends a container event (docker's attributes: labels, image, name, then `extra`). */
  event(rec: ContainerRecord, action: string, extra?: Record<string, string>): Promise<void>;
}
