// An example config file for one deployment: every key is a setting from
// packages/config/SETTINGS.md. Check it with: bicorn check -c configs/bicorn.config.mjs
import { defineConfig } from 'bicorn';

export default defineConfig({
  app: './packages/bicorn/examples/hello.mjs',
  bind: ['0.0.0.0:8000'],
  workers: 'auto',
  graceful_timeout: '30s',
  keep_alive: 5,
  log_level: 'info',
  log_format: 'json',
  access_log: '-',
});
