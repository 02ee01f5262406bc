import { Worker } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import type { InferenceBackend, ModelSignature } from '../domain/model.ts';
import { type ModelLoader } from '../domain/registry.ts';
import type { ThreadAnswer, ThreadInit, ThreadReady, ThreadRequest } from './onnx-thread.ts';

export type OnnxExecution = 'auto' | 'thread' | 'inline';

/**
 * Largest batch `auto` runs on the event loop. Chosen on the 2-core reference machine for the v1 reference
 * models, measured then on one repeated tensor: `session.run` took ~35 µs for 1 row, ~760 µs for 50,
 * ~8 ms for 1,000, and the worker hop adds ~130 µs a call, so 16 rows held the loop ~0.25 ms, about two
 * hops' worth. On varied rows v1 costs more (~0.6 ms at 16 rows) and the v2 models less (16 rows
 * ~0.1-0.2 ms, 50 rows ~0.2-0.45 ms): the threshold is in rows, not in cost, so it does not follow the
 * model (docs/adr/0004-ml-proxy.md, "Consequences").
 */
export const DEFAULT_INLINE_MAX_ROWS = 16;

export interface OnnxLoaderOptions {
  /** Threads one inference may use. 1 by default: many small concurrent requests on few cores gain nothing from splitting one tiny batch. */
  readonly intraOpThreads: number;
  /**
   * `auto` (default): each loaded version has two sessions, one on the calling thread for batches of at
   * most `inlineMaxRows` rows (no hop) and one in its own worker thread for bigger ones (they never block
   * the HTTP event loop). `thread`: every call in the worker thread. `inline`: every call on the calling
   * thread (lowest per-call overhead; a big batch blocks the loop for its whole duration).
   */
  readonly execution?: OnnxExecution;
  /** `auto` only: batches up to this many rows run inline, bigger ones in the worker thread. */
  readonly inlineMaxRows?: number;
}

/**
 * What `auto` loads: one backend that sends each call to one of two sessions of the same model file by
 * batch size. `parts` are the two sessions, which the registry verifies one by one (warm-up, golden)
 * before the version serves; `calls` counts the calls each served (verification excluded).
 */
export interface SplitBackend extends InferenceBackend {
  readonly parts: readonly [inline: InferenceBackend, thread: InferenceBackend];
  readonly inlineMaxRows: number;
  readonly calls: { inline: number; thread: number };
}

interface SessionShape {
  readonly inputs: ThreadReady['inputs'];
  readonly outputNames: readonly string[];
}

/**
 * Loads model.onnx files into ONNX Runtime sessions. The whole batch of a request is one `session.run`,
 * the unit ONNX Runtime vectorises over.
 */
export function createOnnxLoader(opts: OnnxLoaderOptions): ModelLoader {
  return {
    platform: 'onnxruntime_onnx',
    async load({ model, version, modelPath, signature }) {
      const execution = opts.execution ?? 'auto';
      const load = async (where: 'thread' | 'inline'): Promise<InferenceBackend> => {
        const loaded =
          where === 'thread'
            ? await threadBackend(modelPath, opts.intraOpThreads, signature)
            : await inlineBackend(modelPath, opts.intraOpThreads, signature);
        try {
          checkShape(loaded.shape, signature);
        } catch (err) {
          await loaded.backend.close();
          throw new Error(`${model}/${version}: ${(err as Error).message}`, { cause: err });
        }
        return loaded.backend;
      };
      if (execution !== 'auto') return load(execution);
      // One after the other: creating a session does not block the loop but does take a core (~0.5 s).
      const thread = await load('thread');
      let inline: InferenceBackend;
      try {
        inline = await load('inline');
      } catch (err) {
        await thread.close();
        throw err;
      }
      return splitBackend(inline, thread, opts.inlineMaxRows ?? DEFAULT_INLINE_MAX_ROWS);
    },
  };
}

function splitBackend(
  inline: InferenceBackend,
  thread: InferenceBackend,
  inlineMaxRows: number,
): SplitBackend {
  const calls = { inline: 0, thread: 0 };
  return {
    kind: 'onnx',
    parts: [inline, thread],
    inlineMaxRows,
    calls,
    infer(input, rows, outputs, budget) {
      if (rows <= inlineMaxRows) {
        calls.inline++;
        return inline.infer(input, rows, outputs, budget);
      }
      calls.thread++;
      return thread.infer(input, rows, outputs, budget);
    },
    // Called by the registry only once the version's in-flight calls are done (reference counting).
    async close() {
      const closed = await Promise.allSettled([inline.close(), thread.close()]);
      const failed = closed.find((c) => c.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}

function checkShape(shape: SessionShape, signature: ModelSignature): void {
  if (shape.inputs.length !== 1)
    throw new Error(`model has ${shape.inputs.length} inputs; exactly one is supported`);
  const input = shape.inputs[0]!;
  if (input.name !== signature.input.name) {
    throw new Error(`model input is ${input.name}; metadata names ${signature.input.name}`);
  }
  if (input.type !== 'float32') throw new Error(`input ${input.name} is ${input.type}, not float32`);
  const width = input.shape[1];
  if (input.shape.length !== 2 || (typeof width === 'number' && width !== signature.features.length)) {
    throw new Error(
      `input shape [${input.shape.join(',')}] does not take ${signature.features.length} features per row`,
    );
  }
  for (const output of signature.outputs) {
    if (!shape.outputNames.includes(output.name)) {
      throw new Error(`model has no output ${output.name} (it has ${shape.outputNames.join(', ')})`);
    }
  }
}

function pick(
  outputs: readonly string[],
  all: Readonly<Record<string, Float32Array>>,
): Record<string, Float32Array> {
  const result: Record<string, Float32Array> = {};
  for (const name of outputs) {
    const values = all[name];
    if (!values) throw new Error(`output ${name} missing or not float32`);
    result[name] = values;
  }
  return result;
}

async function inlineBackend(
  modelPath: string,
  intraOpThreads: number,
  signature: ModelSignature,
): Promise<{ backend: InferenceBackend; shape: SessionShape }> {
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const width = signature.features.length;
  const inputName = signature.input.name;
  const shape: SessionShape = {
    inputs: session.inputMetadata.map((m) =>
      m.isTensor
        ? { name: m.name, type: m.type, shape: m.shape }
        : { name: m.name, type: 'non-tensor', shape: [] },
    ),
    outputNames: session.outputNames,
  };
  const backend: InferenceBackend = {
    kind: 'onnx',
    async infer(input, rows, outputs) {
      // Every output is fetched: onnxruntime-node 1.23 labels a requested subset by position in the
      // model's output list (asking for [p50] returns p10's values under the name p50).
      const fetched = await session.run({ [inputName]: new ort.Tensor('float32', input, [rows, width]) });
      const all: Record<string, Float32Array> = {};
      for (const [name, tensor] of Object.entries(fetched)) {
        if (tensor.type === 'float32') all[name] = tensor.data as Float32Array;
      }
      return pick(outputs, all);
    },
    close: () => session.release(),
  };
  return { backend, shape };
}

async function threadBackend(
  modelPath: string,
  intraOpThreads: number,
  signature: ModelSignature,
): Promise<{ backend: InferenceBackend; shape: SessionShape }> {
  const init: ThreadInit = { modelPath, intraOpThreads };
  const worker = new Worker(new URL('./onnx-thread.ts', import.meta.url), { workerData: init });
  const pending = new Map<
    number,
    { resolve: (r: Record<string, Float32Array>) => void; reject: (e: Error) => void }
  >();
  let nextId = 0;
  let dead: Error | undefined;

  const shape = await new Promise<SessionShape>((resolve, reject) => {
    const onMessage = (msg: ThreadReady | { type: 'failed'; error: string }) => {
      worker.off('error', onError);
      if (msg.type === 'ready') resolve(msg);
      else reject(new Error(msg.error));
    };
    const onError = (err: Error) => reject(err);
    worker.once('message', onMessage);
    worker.once('error', onError);
  }).catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  });

  const failAll = (err: Error) => {
    dead = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  worker.on('message', (answer: ThreadAnswer) => {
    const p = pending.get(answer.id);
    if (!p) return;
    pending.delete(answer.id);
    if ('error' in answer) p.reject(new Error(answer.error));
    else p.resolve(answer.result);
  });
  // A crashed worker fails its calls (the heuristic answers them) instead of leaving them hanging.
  worker.on('error', (err) => failAll(err));
  worker.on('exit', (code) => failAll(new Error(`onnx worker exited with code ${code}`)));

  const width = signature.features.length;
  const backend: InferenceBackend = {
    kind: 'onnx',
    infer(input, rows, outputs) {
      if (dead) return Promise.reject(dead);
      const id = nextId++;
      return new Promise<Record<string, Float32Array>>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        // Copied, not transferred: the caller still needs its tensor (heuristic fallback, shadow call).
        const req: ThreadRequest = { id, inputName: signature.input.name, input: input.slice(), rows, width };
        worker.postMessage(req, [req.input.buffer as ArrayBuffer]);
      }).then((all) => pick(outputs, all));
    },
    async close() {
      await worker.terminate();
    },
  };
  return { backend, shape };
}
