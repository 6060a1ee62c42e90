import type { Scenario } from '../scenario.js';
import { cliNoop } from './cli-noop.js';

/** Every scenario by name. Later issues add theirs here. */
export const scenarios: ReadonlyMap<string, Scenario> = new Map([cliNoop].map((s) => [s.name, s]));
