import { describe, expect, it } from 'vitest';
import type { InferenceBackend, ModelSignature } from '../../src/domain/model.ts';
import { LoadedVersion } from '../../src/domain/registry.ts';

const signature: ModelSignature = {
  input: { name: 'features', datatype: 'FP32', shape: [-1, 1] },
  features: [{ name: 'distance_km', nullable: false, unit: 'km', range: [0, 30] }],
  outputs: [{ name: 'p50', datatype: 'FP32', shape: [-1] }],
};

/** A backend of our own port whose close is recorded; the calls are the version's acquire/release. */
function version(events: string[]): LoadedVersion {
  const backend: InferenceBackend = {
    kind: 'heuristic',
    infer: async () => ({ p50: new Float32Array([1]) }),
    close: async () => {
      events.push('backend closed');
    },
  };
  return new LoadedVersion({
    model: 'eta-precise',
    version: '2',
    platform: 'test',
    signature,
    backend,
    fingerprint: 'f',
  });
}

describe('LoadedVersion.retire', () => {
  it('closes at once and resolves when no call is in flight', async () => {
    const events: string[] = [];
    await version(events).retire();
    expect(events).toEqual(['backend closed']);
  });

  it('resolves only after the last in-flight call released it and the backend closed', async () => {
    // Shutdown awaits retire(): resolving it while a call (one past its deadline, say) still runs in the
    // backend lets the process exit under a running ONNX call, which aborts it.
    const events: string[] = [];
    const v = version(events);
    v.acquire();
    v.acquire();
    const retired = v.retire().then(() => events.push('retired'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual([]);
    v.release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual([]);
    v.release();
    await retired;
    expect(events).toEqual(['backend closed', 'retired']);
    // A second retire (the registry's close after a hot reload's) answers the same close.
    await v.retire();
    expect(events).toEqual(['backend closed', 'retired']);
  });
});
