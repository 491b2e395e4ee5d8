// The public surface of @bicorn/static: the worker's static file server. Used in the worker.
export { StaticFiles, type StaticOptions } from './static-files.js';
