// The public surface of @bicorn/js: load a JavaScript app and get its node:http listener.
// Used in the worker.
export { detectInterface, type JsInterface, type JsInterfaceOption } from './interface.js';
export { checkJsApp, loadJsApp, type JsAppHost, type LoadJsAppOptions } from './load-app.js';
export { parseAppSpec, type AppSpec } from './load-module.js';
