// serve(): run a bicorn master from a script, with settings given as an object (the same
// keys as a config file). Resolves with the exit code once the server has stopped.
import { resolveConfig, servableApp, type ConfigInput } from '@bicorn/config';
import { runMaster } from '@bicorn/master';
import { createLogger } from '@bicorn/runtime';
import type { ExitCode } from '@bicorn/protocol';
import { packageVersion, workerEntry } from './paths.js';

export async function serve(settings: ConfigInput): Promise<ExitCode> {
  const { config } = resolveConfig({}, process.env, { path: 'serve()', label: 'serve() options', values: settings });
  servableApp(config);
  const { log, destination } = createLogger({ role: 'master', level: config.log_level, format: config.log_format, jsonStyle: config.log_json_style, destination: config.error_log, colours: config.use_colors });
  try {
    return await runMaster({ config, workerEntry: workerEntry(), log, version: packageVersion() });
  } finally {
    destination.flush();
  }
}
