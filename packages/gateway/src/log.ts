// The logger shape the gateway writes to: a pino-compatible subset. Runs in the worker.

export interface GatewayLog {
  error(data: object, msg: string): void;
  warn(data: object, msg: string): void;
  debug(data: object, msg: string): void;
}
