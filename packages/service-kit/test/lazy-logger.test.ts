import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { createLogger, LazyChildLogger } from '../src/index.ts';

function capture(level = 'info'): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  // A destination pino writes to synchronously, so lines are there when the call returns.
  const log = createLogger({ name: 'lazy-test', level, stream: { write: (s: string) => stream.write(s) } });
  return { log, lines };
}

/** Lines without `time`, which differs between two loggers writing a moment apart. */
const withoutTime = (lines: string[]) => lines.map((l) => l.replace(/"time":"[^"]+",/, ''));

describe('LazyChildLogger', () => {
  it('writes exactly the lines an eager pino child chain writes, bindings in the same order', () => {
    const eager = capture();
    const lazy = capture();
    const e = eager.log.child({ requestId: 'r-1' }).child({ caller: 'bench', callerVia: 'token' });
    const l = new LazyChildLogger(lazy.log, { requestId: 'r-1' }).child({
      caller: 'bench',
      callerVia: 'token',
    });
    for (const target of [e, l]) {
      target.info({ storeId: 7, headers: { authorization: 'Bearer secret' } }, 'hello %s', 'there');
      target.warn('plain');
      target.error({ err: new Error('boom') }, 'failed');
      target.debug('not at info');
    }
    expect(lazy.lines).toHaveLength(3);
    expect(withoutTime(lazy.lines)).toEqual(withoutTime(eager.lines));
    expect(lazy.lines[0]).toContain('"requestId":"r-1","caller":"bench","callerVia":"token"');
    expect(lazy.lines[0]).toContain('[REDACTED]');
    expect(lazy.lines[0]).not.toContain('secret');
  });

  it('makes no pino child until a line at an enabled level is written', () => {
    const { log, lines } = capture('warn');
    const child = vi.spyOn(log, 'child');
    const lazy = new LazyChildLogger(log, { requestId: 'r-2' }).child({ caller: 'x' });
    lazy.info('below the level');
    lazy.debug('below the level');
    expect(child).not.toHaveBeenCalled();
    expect(lines).toEqual([]);
    lazy.warn('now');
    // Both levels of the chain are made now (a pino child inherits the spied method from its parent).
    expect(child).toHaveBeenCalledTimes(2);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('"requestId":"r-2","caller":"x"');
  });

  it("follows the parent's level and answers isLevelEnabled like a pino child", () => {
    const { log } = capture('info');
    const lazy = new LazyChildLogger(log, { requestId: 'r-3' });
    expect(lazy.level).toBe('info');
    expect(lazy.isLevelEnabled('info')).toBe(true);
    expect(lazy.isLevelEnabled('debug')).toBe(false);
    lazy.level = 'debug';
    expect(lazy.isLevelEnabled('debug')).toBe(true);
    // Setting the child's level never changes the parent's.
    expect(log.level).toBe('info');
  });

  it('passes child options (a route log level) to the real child', () => {
    const { log, lines } = capture('info');
    const lazy = new LazyChildLogger(log, { requestId: 'r-4' }, { level: 'debug' });
    lazy.debug('route at debug');
    expect(lines).toHaveLength(1);
    expect(lazy.bindings()).toEqual(log.child({ requestId: 'r-4' }).bindings());
  });
});
