import { parentPort } from 'node:worker_threads';
import ort from 'onnxruntime-node';

/**
 * Worker-thread side of the ONNX backend: one thread per process hosts the worker sessions of every loaded
 * version (each version's `thread` part), keyed by a number the main thread picks. onnxruntime-node creates
 * sessions and runs them synchronously on the calling thread (about 0.5 s to load a reference model,
 * ~8 ms for a 1,000-row batch); doing that here keeps the HTTP event loop free, so a hot reload or a big
 * batch does not stall every other request. One thread for all versions, not one each: every thread is
 * its own V8 isolate and ONNX Runtime environment (~25 MB resident), and the big batches it serves are
 * few; the versions' small batches run inline.
 */
export type HostRequest =
  | {
      readonly type: 'load';
      readonly key: number;
      readonly modelPath: string;
      readonly intraOpThreads: number;
    }
  | {
      readonly type: 'run';
      readonly id: number;
      readonly key: number;
      readonly inputName: string;
      readonly input: Float32Array;
      readonly rows: number;
      readonly width: number;
    }
  | { readonly type: 'release'; readonly key: number }
  /** Sent once no session is left: the thread finishes what it is doing and ends by itself. */
  | { readonly type: 'exit' };

export interface SessionShapeMessage {
  readonly inputs: readonly { name: string; type: string; shape: readonly (number | string)[] }[];
  readonly outputNames: readonly string[];
}

export type HostAnswer =
  | ({ readonly type: 'loaded'; readonly key: number } & SessionShapeMessage)
  | { readonly type: 'load-failed'; readonly key: number; readonly error: string }
  | { readonly type: 'result'; readonly id: number; readonly result: Record<string, Float32Array> }
  | { readonly type: 'failed'; readonly id: number; readonly error: string }
  | { readonly type: 'released'; readonly key: number };

const port = parentPort!;
const sessions = new Map<number, ort.InferenceSession>();
/** Each session's calls still running: a release waits for them (see release). */
const running = new Map<number, Set<Promise<void>>>();
const message = (err: unknown) => String((err as Error)?.message ?? err);

async function load(req: Extract<HostRequest, { type: 'load' }>): Promise<void> {
  try {
    const session = await ort.InferenceSession.create(req.modelPath, {
      intraOpNumThreads: req.intraOpThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    sessions.set(req.key, session);
    port.postMessage({
      type: 'loaded',
      key: req.key,
      inputs: session.inputMetadata.map((m) =>
        m.isTensor
          ? { name: m.name, type: m.type, shape: m.shape }
          : { name: m.name, type: 'non-tensor', shape: [] },
      ),
      outputNames: session.outputNames,
    } satisfies HostAnswer);
  } catch (err) {
    port.postMessage({ type: 'load-failed', key: req.key, error: message(err) } satisfies HostAnswer);
  }
}

function run(req: Extract<HostRequest, { type: 'run' }>): void {
  const session = sessions.get(req.key);
  if (session === undefined) {
    port.postMessage({ type: 'failed', id: req.id, error: `no session ${req.key}` } satisfies HostAnswer);
    return;
  }
  // Every output is fetched: onnxruntime-node 1.23 mislabels a requested subset (see onnx.ts).
  const call = session
    .run({ [req.inputName]: new ort.Tensor('float32', req.input, [req.rows, req.width]) })
    .then(
      (fetched) => {
        const result: Record<string, Float32Array> = {};
        const transfer: ArrayBuffer[] = [];
        for (const name of session.outputNames) {
          const tensor = fetched[name];
          if (!tensor || tensor.type !== 'float32') continue;
          // A copy: the tensor's memory may belong to the runtime, and the copy can be transferred.
          const copy = (tensor.data as Float32Array).slice();
          result[name] = copy;
          transfer.push(copy.buffer);
        }
        port.postMessage({ type: 'result', id: req.id, result } satisfies HostAnswer, transfer);
      },
      (err: unknown) =>
        port.postMessage({ type: 'failed', id: req.id, error: message(err) } satisfies HostAnswer),
    );
  let calls = running.get(req.key);
  if (calls === undefined) running.set(req.key, (calls = new Set()));
  calls.add(call);
  void call.finally(() => calls.delete(call));
}

async function release(req: Extract<HostRequest, { type: 'release' }>): Promise<void> {
  const session = sessions.get(req.key);
  sessions.delete(req.key);
  try {
    // Its calls still running finish, and are answered, first. A session released under a running call
    // fails it, and a thread ended while one runs (the host ends it after the last release) aborts the
    // whole process: onnxruntime-node's completion throws a Napi::Error into a torn-down thread
    // ("terminate called after throwing an instance of 'Napi::Error'", seen in CI).
    await Promise.allSettled(running.get(req.key) ?? []);
    running.delete(req.key);
    await session?.release();
  } finally {
    port.postMessage({ type: 'released', key: req.key } satisfies HostAnswer);
  }
}

/**
 * The thread's end, asked for by the host once it holds no session: whatever is still running finishes,
 * then the port closes and the thread exits on its own once its event loop is empty. Never ended from
 * outside (Worker.terminate): that stops the thread wherever it is, and inside onnxruntime-node's
 * native code the N-API calls then fail with an error that (as we read its empty message) cannot be
 * thrown into a dying thread, which aborts the whole process ("terminate called after throwing an
 * instance of 'Napi::Error'", seen twice in CI).
 */
async function exit(): Promise<void> {
  await Promise.allSettled([...running.values()].flatMap((calls) => [...calls]));
  for (const session of sessions.values()) await session.release().catch(() => undefined);
  sessions.clear();
  port.close();
}

port.on('message', (req: HostRequest) => {
  if (req.type === 'load') void load(req);
  else if (req.type === 'run') run(req);
  else if (req.type === 'release') void release(req);
  else void exit();
});
