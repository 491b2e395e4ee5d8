export { takeReadiness, type Readiness } from './daemon.js';
export { main, type MainOptions } from './main.js';
