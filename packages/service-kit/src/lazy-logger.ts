import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, LevelWithSilentOrString, Logger } from 'pino';

type LogArgs = unknown[];

/** What a lazy child needs of its parent: a pino logger or another lazy child. */
type Parent = Logger | LazyChildLogger;

/**
 * A pino child logger that is only made when the first line at an enabled level is written (or something
 * only a real child can answer is asked, e.g. `bindings()`).
 *
 * Fastify makes one child per request (the request id) and the BFF's auth hook another (the caller); with
 * the access log off almost no request writes a line, yet each pino child serialises (and redacts) its
 * bindings when made, which was a measurable share of the CPU of every request. A line, once written, is
 * byte for byte what the eager child would have written: the real child is made from the same parent
 * chain with the same bindings and options, in the same order.
 *
 * One difference, on purpose: an eager child copies its parent's level when made, a lazy one follows its
 * parent's level until it is made. Levels are set once at start-up, so this is never observable.
 */
export class LazyChildLogger {
  readonly #parent: Parent;
  readonly #bindings: Bindings;
  readonly #options: ChildLoggerOptions | undefined;
  #real: Logger | undefined;

  constructor(parent: Parent, bindings: Bindings, options?: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
    // Options (a route's log level or serializers) change what is written and when: no laziness then.
    // Fastify passes `{}` for routes without them.
    if (options !== undefined && Object.keys(options).length > 0) this.materialize();
  }

  /** The pino child this stands for, made on first need. */
  materialize(): Logger {
    if (this.#real === undefined) {
      const parent = this.#parent instanceof LazyChildLogger ? this.#parent.materialize() : this.#parent;
      this.#real = parent.child(this.#bindings, this.#options);
    }
    return this.#real;
  }

  get level(): LevelWithSilentOrString {
    return this.#real !== undefined ? this.#real.level : this.#parent.level;
  }

  set level(level: LevelWithSilentOrString) {
    this.materialize().level = level;
  }

  get levelVal(): number {
    return this.#real !== undefined ? this.#real.levelVal : this.#parent.levelVal;
  }

  get msgPrefix(): string | undefined {
    return this.materialize().msgPrefix;
  }

  isLevelEnabled(level: LevelWithSilentOrString): boolean {
    return this.#real !== undefined ? this.#real.isLevelEnabled(level) : this.#parent.isLevelEnabled(level);
  }

  // Prototype methods rather than per-instance closures: a request child must cost next to nothing.
  fatal(...args: LogArgs): void {
    this.#write('fatal', args);
  }
  error(...args: LogArgs): void {
    this.#write('error', args);
  }
  warn(...args: LogArgs): void {
    this.#write('warn', args);
  }
  info(...args: LogArgs): void {
    this.#write('info', args);
  }
  debug(...args: LogArgs): void {
    this.#write('debug', args);
  }
  trace(...args: LogArgs): void {
    this.#write('trace', args);
  }
  silent(..._args: LogArgs): void {}

  #write(level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace', args: LogArgs): void {
    if (this.#real === undefined && !this.#parent.isLevelEnabled(level)) return;
    (this.materialize()[level] as (...a: LogArgs) => void)(...args);
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): LazyChildLogger {
    return new LazyChildLogger(this, bindings, options);
  }

  bindings(): Bindings {
    return this.materialize().bindings();
  }

  setBindings(bindings: Bindings): void {
    this.materialize().setBindings(bindings);
  }

  flush(cb?: (err?: Error) => void): void {
    this.materialize().flush(cb);
  }
}

/**
 * Fastify's `childLoggerFactory`: the per-request child as a LazyChildLogger. Typed loosely on purpose,
 * Fastify only checks that the result has the log methods and `child`.
 */
export function lazyChildLoggerFactory(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  return new LazyChildLogger(logger as Parent, bindings, options) as unknown as FastifyBaseLogger;
}
