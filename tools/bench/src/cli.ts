#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { formatResult, runScenario } from './harness.js';
import type { EngineName } from './scenario.js';
import { scenarios } from './scenarios/index.js';

const usage = `usage: berth-bench SCENARIO... [-n RUNS] [--warmup N] [--engine berth|docker|podman]...

scenarios:
${[...scenarios.values()].map((s) => `  ${s.name.padEnd(14)} ${s.description}`).join('\n')}`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      runs: { type: 'string', short: 'n', default: '10' },
      warmup: { type: 'string', default: '1' },
      engine: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || positionals.length === 0) {
    console.log(usage);
    return values.help ? 0 : 2;
  }
  const runs = Number(values.runs);
  const warmup = Number(values.warmup);
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`invalid -n ${values.runs}: want a positive integer`);
  if (!Number.isInteger(warmup) || warmup < 0) throw new Error(`invalid --warmup ${values.warmup}`);
  for (const name of positionals) {
    const scenario = scenarios.get(name);
    if (!scenario) throw new Error(`unknown scenario ${name}\n${usage}`);
    const result = await runScenario(scenario, {
      runs,
      warmup,
      engines: values.engine as EngineName[] | undefined,
      log: (l) => process.stderr.write(`${l}\n`),
    });
    console.log(values.json ? JSON.stringify(result) : formatResult(result));
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`berth-bench: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
