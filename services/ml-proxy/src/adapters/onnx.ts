import { Worker } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { type InferenceBackend, type ModelSignature } from '../domain/model.ts';
import { type ModelLoader } from '../domain/registry.ts';
import type { ThreadAnswer, ThreadInit, ThreadReady, ThreadRequest } from './onnx-thread.ts';

export interface OnnxLoaderOptions {
  /** Threads one inference may use. 1 by default: many small concurrent requests on few cores gain nothing from splitting one tiny batch. */
  readonly intraOpThreads: number;
  /**
   * `thread`: each loaded version runs in its own worker thread (default; loading and big batches never
   * block the HTTP event loop). `inline`: on the calling thread (lowest per-call overhead; benchmarks).
   */
  readonly execution?: 'thread' | 'inline';
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
      const backend =
        (opts.execution ?? 'thread') === 'thread'
          ? await threadBackend(modelPath, opts.intraOpThreads, signature)
          : await inlineBackend(modelPath, opts.intraOpThreads, signature);
      try {
        checkShape(backend.shape, signature);
      } catch (err) {
        await backend.backend.close();
        throw new Error(`${model}/${version}: ${(err as Error).message}`, { cause: err });
      }
      return backend.backend;
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
