import { Worker } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import type { InferenceBackend, ModelSignature } from '../domain/model.ts';
import { type ModelLoader } from '../domain/registry.ts';
import type { HostAnswer, HostRequest, SessionShapeMessage } from './onnx-thread.ts';

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
   * most `inlineMaxRows` rows (no hop) and one in the worker thread for bigger ones (they never block
   * the HTTP event loop). `thread`: every call in the worker thread. `inline`: every call on the calling
   * thread (lowest per-call overhead; a big batch blocks the loop for its whole duration).
   */
  readonly execution?: OnnxExecution;
  /** `auto` only: batches up to this many rows run inline, bigger ones in the worker thread. */
  readonly inlineMaxRows?: number;
  /**
   * Called when the worker thread has ended, with its exit code: 0 when it ended by itself once its last
   * session was released; anything else means it died or had to be terminated (logged by the app).
   */
  readonly onThreadExit?: (code: number) => void;
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

type SessionShape = SessionShapeMessage;

/**
 * Loads model.onnx files into ONNX Runtime sessions. The whole batch of a request is one `session.run`,
 * the unit ONNX Runtime vectorises over.
 */
export function createOnnxLoader(opts: OnnxLoaderOptions): ModelLoader {
  // One worker thread for the worker sessions of every version this loader loads (onnx-thread.ts): started
  // with the first, ended when the last is closed, started again after it died.
  let host: SessionHost | undefined;
  const sessionHost = (): SessionHost => {
    if (host === undefined || host.dead !== undefined) {
      const created = startSessionHost(
        () => {
          if (host === created) host = undefined;
        },
        (code) => opts.onThreadExit?.(code),
      );
      host = created;
    }
    return host;
  };
  return {
    platform: 'onnxruntime_onnx',
    async load({ model, version, modelPath, signature }) {
      const execution = opts.execution ?? 'auto';
      const load = async (where: 'thread' | 'inline'): Promise<InferenceBackend> => {
        const loaded =
          where === 'thread'
            ? await threadBackend(sessionHost(), modelPath, opts.intraOpThreads, signature)
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
  // Calls still running when the backend closes finish first (as in the worker thread, onnx-thread.ts).
  const running = new Set<Promise<unknown>>();
  const backend: InferenceBackend = {
    kind: 'onnx',
    async infer(input, rows, outputs) {
      // Every output is fetched: onnxruntime-node 1.23 labels a requested subset by position in the
      // model's output list (asking for [p50] returns p10's values under the name p50).
      const call = session.run({ [inputName]: new ort.Tensor('float32', input, [rows, width]) });
      running.add(call);
      let fetched: Awaited<typeof call>;
      try {
        fetched = await call;
      } finally {
        running.delete(call);
      }
      const all: Record<string, Float32Array> = {};
      for (const [name, tensor] of Object.entries(fetched)) {
        if (tensor.type === 'float32') all[name] = tensor.data as Float32Array;
      }
      return pick(outputs, all);
    },
    async close() {
      await Promise.allSettled(running);
      await session.release();
    },
  };
  return { backend, shape };
}

/**
 * The main thread's side of the session host: loads, runs and releases sessions by key, fails everything
 * it holds when the thread dies (the versions' calls then take the heuristic), and ends the thread once
 * no session is left, so an idle process can exit.
 */
interface SessionHost {
  /** Set once the thread died or was ended; a dead host takes no new session. */
  readonly dead: Error | undefined;
  load(modelPath: string, intraOpThreads: number): Promise<{ key: number; shape: SessionShape }>;
  run(
    key: number,
    req: Omit<Extract<HostRequest, { type: 'run' }>, 'type' | 'id' | 'key'>,
  ): Promise<Record<string, Float32Array>>;
  release(key: number): Promise<void>;
}

/** How long a thread asked to end may take to finish its running calls before it is terminated. */
const THREAD_EXIT_TIMEOUT_MS = 30_000;

function startSessionHost(onEnd: () => void, onExit: (code: number) => void): SessionHost {
  const worker = new Worker(new URL('./onnx-thread.ts', import.meta.url));
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  void exited.then(onExit);
  type Waiter<T> = { resolve: (v: T) => void; reject: (e: Error) => void };
  const runs = new Map<number, Waiter<Record<string, Float32Array>>>();
  const loads = new Map<number, Waiter<SessionShape>>();
  const releases = new Map<number, Waiter<void>>();
  const live = new Set<number>();
  let nextId = 0;
  let nextKey = 0;
  let dead: Error | undefined;

  const end = (err: Error) => {
    if (dead !== undefined) return;
    dead = err;
    onEnd();
    for (const waiters of [runs, loads] as Map<number, Waiter<never>>[]) {
      for (const w of waiters.values()) w.reject(err);
      waiters.clear();
    }
    // A release has nothing left to wait for once the thread is gone.
    for (const w of releases.values()) w.resolve();
    releases.clear();
    live.clear();
  };
  worker.on('message', (answer: HostAnswer) => {
    switch (answer.type) {
      case 'result':
      case 'failed': {
        const w = runs.get(answer.id);
        runs.delete(answer.id);
        if (answer.type === 'result') w?.resolve(answer.result);
        else w?.reject(new Error(answer.error));
        return;
      }
      case 'loaded':
      case 'load-failed': {
        const w = loads.get(answer.key);
        loads.delete(answer.key);
        if (answer.type === 'loaded') w?.resolve({ inputs: answer.inputs, outputNames: answer.outputNames });
        else {
          live.delete(answer.key);
          w?.reject(new Error(answer.error));
        }
        return;
      }
      case 'released': {
        const w = releases.get(answer.key);
        releases.delete(answer.key);
        w?.resolve();
        return;
      }
    }
  });
  // A crashed thread fails the calls it held (the heuristic answers them) instead of leaving them hanging.
  worker.on('error', (err) => end(err));
  worker.on('exit', (code) => end(new Error(`onnx worker exited with code ${code}`)));

  const post = (req: HostRequest, transfer: ArrayBuffer[] = []) => worker.postMessage(req, transfer);
  return {
    get dead() {
      return dead;
    },
    load(modelPath, intraOpThreads) {
      if (dead) return Promise.reject(dead);
      const key = nextKey++;
      live.add(key);
      return new Promise<SessionShape>((resolve, reject) => {
        loads.set(key, { resolve, reject });
        post({ type: 'load', key, modelPath, intraOpThreads });
      }).then(
        (shape) => ({ key, shape }),
        async (err: unknown) => {
          await endIfIdle();
          throw err;
        },
      );
    },
    run(key, req) {
      if (dead) return Promise.reject(dead);
      if (!live.has(key)) return Promise.reject(new Error(`onnx worker session ${key} is closed`));
      const id = nextId++;
      return new Promise<Record<string, Float32Array>>((resolve, reject) => {
        runs.set(id, { resolve, reject });
        post({ type: 'run', id, key, ...req }, [req.input.buffer as ArrayBuffer]);
      });
    },
    async release(key) {
      if (dead || !live.has(key)) return;
      live.delete(key);
      await new Promise<void>((resolve, reject) => {
        releases.set(key, { resolve, reject });
        post({ type: 'release', key });
      });
      await endIfIdle();
    },
  };

  /**
   * No session left and none loading: the thread is asked to end (it finishes on its own, see exit() in
   * onnx-thread.ts), and the next load starts a new one. Terminated only if it has not ended in
   * THREAD_EXIT_TIMEOUT_MS, which a thread that answered every release never needs.
   */
  async function endIfIdle(): Promise<void> {
    if (dead || live.size > 0) return;
    end(new Error('onnx worker ended: no session left'));
    post({ type: 'exit' });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), THREAD_EXIT_TIMEOUT_MS);
      timer.unref();
    });
    if ((await Promise.race([exited, late])) === 'late') await worker.terminate();
    clearTimeout(timer);
  }
}

async function threadBackend(
  host: SessionHost,
  modelPath: string,
  intraOpThreads: number,
  signature: ModelSignature,
): Promise<{ backend: InferenceBackend; shape: SessionShape }> {
  const { key, shape } = await host.load(modelPath, intraOpThreads);
  const width = signature.features.length;
  const backend: InferenceBackend = {
    kind: 'onnx',
    infer(input, rows, outputs) {
      // Copied, not transferred: the caller still needs its tensor (heuristic fallback, shadow call).
      return host
        .run(key, { inputName: signature.input.name, input: input.slice(), rows, width })
        .then((all) => pick(outputs, all));
    },
    close: () => host.release(key),
  };
  return { backend, shape };
}
