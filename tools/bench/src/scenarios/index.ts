import type { Scenario } from '../scenario.js';
import { cliNoop } from './cli-noop.js';
import { execTrue } from './exec-true.js';
import { idleMemory } from './idle-memory.js';
import { images200 } from './images-200.js';
import { pullLayout } from './pull-layout.js';
import { pullMedium } from './pull-medium.js';
import { runRm } from './run-rm.js';
import { runRmUserns } from './run-rm-userns.js';
import { runtimeTrue } from './runtime-true.js';
import { shimRss } from './shim-rss.js';
import { start50 } from './start-50.js';

/** Every scenario by name. Later issues add theirs here. */
export const scenarios: ReadonlyMap<string, Scenario> = new Map(
  [
    cliNoop,
    pullLayout,
    pullMedium,
    images200,
    runtimeTrue,
    shimRss,
    runRm,
    runRmUserns,
    start50,
    idleMemory,
    execTrue,
  ].map((s) => [s.name, s]),
);
