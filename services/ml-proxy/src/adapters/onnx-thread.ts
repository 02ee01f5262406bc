import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';

/**
 * Worker-thread side of the ONNX backend: owns one InferenceSession. onnxruntime-node creates sessions
 * and runs them synchronously on the calling thread (about 0.5 s to load a reference model, ~8 ms for a
 * 1,000-row batch); doing that here keeps the HTTP event loop free, so a hot reload or a big batch does
 * not stall every other request.
 */
export interface ThreadInit {
  readonly modelPath: string;
  readonly intraOpThreads: number;
}

export type ThreadReady = {
  readonly type: 'ready';
  readonly inputs: readonly { name: string; type: string; shape: readonly (number | string)[] }[];
  readonly outputNames: readonly string[];
};

export interface ThreadRequest {
  readonly id: number;
  readonly inputName: string;
  readonly input: Float32Array;
  readonly rows: number;
  readonly width: number;
}

export type ThreadAnswer =
  | { readonly id: number; readonly result: Record<string, Float32Array> }
  | { readonly id: number; readonly error: string };

const port = parentPort!;
const init = workerData as ThreadInit;

try {
  const session = await ort.InferenceSession.create(init.modelPath, {
    intraOpNumThreads: init.intraOpThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  port.on('message', (req: ThreadRequest) => {
    // Every output is fetched: onnxruntime-node 1.23 mislabels a requested subset (see onnx.ts).
    session.run({ [req.inputName]: new ort.Tensor('float32', req.input, [req.rows, req.width]) }).then(
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
        port.postMessage({ id: req.id, result } satisfies ThreadAnswer, transfer);
      },
      (err: unknown) =>
        port.postMessage({ id: req.id, error: String((err as Error).message ?? err) } satisfies ThreadAnswer),
    );
  });
  const ready: ThreadReady = {
    type: 'ready',
    inputs: session.inputMetadata.map((m) =>
      m.isTensor
        ? { name: m.name, type: m.type, shape: m.shape }
        : { name: m.name, type: 'non-tensor', shape: [] },
    ),
    outputNames: session.outputNames,
  };
  port.postMessage(ready);
} catch (err) {
  port.postMessage({ type: 'failed', error: String((err as Error).message ?? err) });
}
