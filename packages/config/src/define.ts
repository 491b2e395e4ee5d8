// defineConfig(): the typed identity function a JavaScript config file exports.
import type { ConfigInput } from './settings.js';

export function defineConfig(config: ConfigInput): ConfigInput {
  return config;
}
