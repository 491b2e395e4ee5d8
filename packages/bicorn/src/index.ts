// The public API of bicorn.
export { defineConfig, type Config, type ConfigInput } from '@bicorn/config';
export { BicornError, ExitCode } from '@bicorn/protocol';
export { serve } from './serve.js';
