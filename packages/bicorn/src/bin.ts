// The bicorn binary's entry: runs the CLI and exits with its code. The only place in the
// master that exits the process.
import { holdYoungGeneration } from '@bicorn/runtime/boot-heap';
import { keepTickShape } from '@bicorn/runtime/tick-shape';
import { packageVersion, workerEntry } from './paths.js';

// Before the CLI and the master load: the master gives it back once it serves.
holdYoungGeneration();
// The master hands over connections all its life, also after quiet spells.
keepTickShape();
const { main, takeReadiness } = await import('@bicorn/cli');

const code = await main(process.argv.slice(2), {
  version: packageVersion(),
  workerEntry: workerEntry(),
  env: process.env,
  cwd: process.cwd(),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  // Under --daemon, the detached copy tells the command that started it when it serves.
  readiness: takeReadiness(process.env),
});
process.exit(code);
