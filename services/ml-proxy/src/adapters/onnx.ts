import ort from 'onnxruntime-node';
import { type InferenceBackend, type ModelSignature } from '../domain/model.ts';
import { type ModelLoader } from '../domain/registry.ts';

export interface OnnxLoaderOptions {
  /** Threads one inference may use. 1 by default: many small concurrent requests on few cores gain nothing from splitting one tiny batch. */
  readonly intraOpThreads: number;
}

/**
 * Loads model.onnx files into in-process ONNX Runtime sessions. The whole batch of a request is one
 * `session.run`, the unit ONNX Runtime vectorises over.
 */
export function createOnnxLoader(opts: OnnxLoaderOptions): ModelLoader {
  return {
    platform: 'onnxruntime_onnx',
    async load({ model, version, modelPath, signature }) {
      const session = await ort.InferenceSession.create(modelPath, {
        intraOpNumThreads: opts.intraOpThreads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
      try {
        checkSession(session, signature);
      } catch (err) {
        await session.release();
        throw new Error(`${model}/${version}: ${(err as Error).message}`, { cause: err });
      }
      return onnxBackend(session, signature);
    },
  };
}

function checkSession(session: ort.InferenceSession, signature: ModelSignature): void {
  const input = session.inputMetadata.find((m) => m.name === signature.input.name);
  if (!input) {
    throw new Error(
      `model has inputs ${session.inputNames.join(', ')}; metadata names ${signature.input.name}`,
    );
  }
  if (session.inputNames.length !== 1) {
    throw new Error(`model has ${session.inputNames.length} inputs; exactly one is supported`);
  }
  if (input.isTensor) {
    if (input.type !== 'float32') throw new Error(`input ${input.name} is ${input.type}, not float32`);
    const width = input.shape[1];
    if (input.shape.length !== 2 || (typeof width === 'number' && width !== signature.features.length)) {
      throw new Error(
        `input shape [${input.shape.join(',')}] does not take ${signature.features.length} features per row`,
      );
    }
  }
  for (const output of signature.outputs) {
    if (!session.outputNames.includes(output.name)) {
      throw new Error(`model has no output ${output.name} (it has ${session.outputNames.join(', ')})`);
    }
  }
}

function onnxBackend(session: ort.InferenceSession, signature: ModelSignature): InferenceBackend {
  const width = signature.features.length;
  const inputName = signature.input.name;
  return {
    kind: 'onnx',
    async infer(input, rows, outputs) {
      const feeds = { [inputName]: new ort.Tensor('float32', input, [rows, width]) };
      const fetched = await session.run(feeds, outputs as string[]);
      const result: Record<string, Float32Array> = {};
      for (const name of outputs) {
        const tensor = fetched[name];
        if (!tensor || tensor.type !== 'float32') throw new Error(`output ${name} missing or not float32`);
        result[name] = tensor.data as Float32Array;
      }
      return result;
    },
    close: () => session.release(),
  };
}
