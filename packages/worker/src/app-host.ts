// Choosing and loading the app host for a worker's config. Runs in a worker.
import { servableApp, type Config } from '@bicorn/config';
import { loadJsApp, type JsAppHost } from '@bicorn/js';
import type { Logger } from '@bicorn/runtime';

export async function loadAppHost(config: Config, log: Logger): Promise<JsAppHost> {
  const { app, interface: appInterface } = servableApp(config);
  return loadJsApp({ app, interface: appInterface, cwd: process.cwd(), rootPath: config.root_path, log });
}
