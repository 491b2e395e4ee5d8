// The logger the Python host needs: pino's, as far as it is used here.
export interface HostLog {
  error(data: object, msg: string): void;
  warn(data: object, msg: string): void;
  info(data: object, msg: string): void;
  debug(data: object, msg: string): void;
}
