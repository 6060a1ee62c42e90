export { formatResult, type RunOptions, runScenario, type ScenarioResult } from './harness.js';
export type { BenchContext, EngineName, Scenario, Step } from './scenario.js';
export { scenarios } from './scenarios/index.js';
export { ratio, type Summary, summarize } from './stats.js';
