/** The slice of a pino logger the cache uses (object first, then message), so any service logger fits. */
export interface CacheLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const noop = (): void => undefined;
export const silentLogger: CacheLogger = { debug: noop, info: noop, warn: noop, error: noop };
