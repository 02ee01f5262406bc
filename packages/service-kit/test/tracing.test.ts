import { describe, expect, it } from 'vitest';
import { startTracing } from '../src/tracing.ts';

describe('startTracing', () => {
  it('does nothing, and never loads dd-trace, when DD_TRACE_ENABLED is false', async () => {
    expect(await startTracing({ DD_TRACE_ENABLED: false }, { service: 'test-svc' })).toBe(false);
    // dd-trace sets this global when it loads; its absence shows the module was not even imported.
    expect((globalThis as Record<symbol, unknown>)[Symbol.for('dd-trace')]).toBeUndefined();
  });
});
