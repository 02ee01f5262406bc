import { AppError } from '@eta/service-kit';
import { type InferResponse } from '../domain/inference.ts';

/**
 * Bodies of the V2 routes as real Open Inference Protocol clients send them, read by one content-type
 * parser (http/v2.ts) instead of Fastify's JSON parser, which answered 415 to tritonclient and 400 to its
 * NaN:
 *
 * - **No content type is JSON.** Python's `tritonclient.http` posts infer requests without a
 *   `Content-Type` header; Triton, KServe and MLServer read the body as JSON regardless.
 * - **NaN, Infinity, -Infinity** are read as numbers although JSON has no such literals: tritonclient
 *   (python-rapidjson) writes them when a numpy array holds them. NaN is "unknown" like `null`; the
 *   domain accepts it only where the model's metadata says the feature is nullable, and refuses
 *   infinities as out of range.
 * - **The binary tensor data extension** (what tritonclient uses by default, `binary_data=True`): the
 *   `Inference-Header-Content-Length` request header gives the length of a JSON inference header at the
 *   start of the body; raw little-endian tensor bytes follow, one block per input that declares
 *   `parameters.binary_data_size`, in the order of `inputs`. Outputs are answered the same way when a
 *   requested output says `parameters.binary_data: true` (or the request `parameters.binary_data_output:
 *   true` and the output does not say false): the answer's JSON header lists them with
 *   `parameters.binary_data_size` and no `data`, and their bytes follow it.
 *
 * Every refusal is a 4xx with a stable code: the body never reaches the handler half-read.
 * Spec: https://github.com/triton-inference-server/server/blob/main/docs/protocol/extension_binary_data.md
 */

/** The binary tensor data extension's header, as Triton spells it (clients read it case-insensitively). */
export const INFERENCE_HEADER = 'Inference-Header-Content-Length';

/** What GET /v2 lists under `extensions` for this file's support. */
export const BINARY_TENSOR_DATA = 'binary_tensor_data';

const badBody = (code: string, message: string) => new AppError(400, code, message);
const BINARY_DATA_INVALID = 'BINARY_DATA_INVALID';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Media types a V2 body may declare; anything else is a 415 rather than a guess. */
export function checkMediaType(contentType: string | undefined, contentEncoding: string | undefined): void {
  if (contentEncoding !== undefined && contentEncoding.trim().toLowerCase() !== 'identity') {
    throw new AppError(
      415,
      'UNSUPPORTED_CONTENT_ENCODING',
      `content encoding '${contentEncoding.slice(0, 64)}' is not supported; send the body uncompressed`,
    );
  }
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (
    type === '' ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/octet-stream'
  )
    return;
  throw new AppError(
    415,
    'UNSUPPORTED_MEDIA_TYPE',
    `content type '${type.slice(0, 64)}' is not accepted: send JSON (application/json or no content type), ` +
      `or the binary tensor data extension (${INFERENCE_HEADER})`,
  );
}

/**
 * Parses a V2 request body: the whole body as JSON, or with `headerLength` (the
 * Inference-Header-Content-Length header) a JSON header followed by the inputs' binary data, which is
 * decoded into each input's `data` so that the rest of the service sees one request shape.
 */
export function parseV2Body(body: Buffer, headerLength: string | string[] | undefined): unknown {
  if (headerLength === undefined) return parseV2Json(body.toString('utf8'));
  const length = Array.isArray(headerLength) || !/^\d{1,15}$/.test(headerLength) ? NaN : Number(headerLength);
  if (!(length <= body.length)) {
    throw badBody(
      BINARY_DATA_INVALID,
      `${INFERENCE_HEADER} is '${String(headerLength).slice(0, 32)}'; expected the byte length of the JSON ` +
        `inference header, at most the body's ${body.length} bytes`,
    );
  }
  const header = parseV2Json(body.toString('utf8', 0, length));
  decodeBinaryInputs(header, body.subarray(length));
  return header;
}

function decodeBinaryInputs(header: unknown, binary: Buffer): void {
  // A header of the wrong shape is left to the route's schema, which names the field.
  const inputs = isObject(header) && Array.isArray(header.inputs) ? header.inputs : [];
  let offset = 0;
  inputs.forEach((input: unknown, i) => {
    if (!isObject(input) || !isObject(input.parameters)) return;
    const name = typeof input.name === 'string' ? input.name.slice(0, 64) : `#${i}`;
    const size = input.parameters.binary_data_size;
    if (size === undefined) return;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      throw badBody(
        BINARY_DATA_INVALID,
        `input '${name}' has binary_data_size ${JSON.stringify(size)?.slice(0, 32)}; expected a byte count`,
      );
    }
    if (input.data !== undefined) {
      throw badBody(
        BINARY_DATA_INVALID,
        `input '${name}' has both data and binary_data_size; send one of them`,
      );
    }
    if (offset + size > binary.length) {
      throw badBody(
        BINARY_DATA_INVALID,
        `input '${name}' declares ${size} bytes of binary data, but only ${binary.length - offset} ` +
          `follow the JSON header at that point`,
      );
    }
    const bytes = binary.subarray(offset, offset + size);
    offset += size;
    // Only FP32 is decoded (the only datatype the models take); any other datatype is refused by the
    // tensor validation, which names it, before the (empty) data is looked at.
    input.data = input.datatype === 'FP32' ? decodeFp32(bytes, name) : [];
  });
  if (offset !== binary.length) {
    throw badBody(
      BINARY_DATA_INVALID,
      `${binary.length - offset} bytes follow the JSON header beyond what the inputs' binary_data_size declare`,
    );
  }
}

/** Little-endian FP32 values; NaN becomes null, the service's spelling of "unknown". */
function decodeFp32(bytes: Buffer, name: string): (number | null)[] {
  if (bytes.length % 4 !== 0) {
    throw badBody(
      BINARY_DATA_INVALID,
      `input '${name}' is FP32 but has ${bytes.length} bytes of binary data, not a multiple of 4`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const out = new Array<number | null>(bytes.length / 4);
  for (let i = 0; i < out.length; i++) {
    const v = view.getFloat32(i * 4, true);
    out[i] = Number.isNaN(v) ? null : v;
  }
  return out;
}

/**
 * JSON.parse that also reads the literals NaN (as null: unknown), Infinity and -Infinity (as ±Infinity,
 * which validation then refuses by name), and refuses prototype keys as Fastify's own parser does.
 * Ordinary JSON takes the plain JSON.parse path; only a body that fails it and holds one of the
 * literals is rewritten, outside strings only.
 */
export function parseV2Json(text: string): unknown {
  const reviver = text.includes('__proto__') || text.includes('constructor') ? noPrototypeKeys : undefined;
  try {
    return JSON.parse(text, reviver);
  } catch (first) {
    if (first instanceof AppError) throw first;
    if (!/NaN|Infinity/.test(text)) throw malformed(first);
    try {
      return JSON.parse(nonFiniteAsJson(text), reviver);
    } catch (second) {
      if (second instanceof AppError) throw second;
      throw malformed(second);
    }
  }
}

function malformed(err: unknown): AppError {
  const why = err instanceof Error ? err.message : String(err);
  return badBody('MALFORMED_JSON', `body is not valid JSON: ${why.slice(0, 200)}`);
}

function noPrototypeKeys(key: string, value: unknown): unknown {
  if (key === '__proto__' || (key === 'constructor' && isObject(value) && 'prototype' in value)) {
    throw badBody('MALFORMED_JSON', 'body contains a forbidden prototype property');
  }
  return value;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const N = 0x4e;
const I = 0x49;

/** NaN -> null and Infinity -> 1e999 (which JSON.parse reads as Infinity), outside string literals. */
export function nonFiniteAsJson(text: string): string {
  let out = '';
  let from = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === N && text.startsWith('NaN', i)) {
      out += `${text.slice(from, i)}null`;
      i += 'NaN'.length - 1;
      from = i + 1;
    } else if (c === I && text.startsWith('Infinity', i)) {
      out += `${text.slice(from, i)}1e999`;
      i += 'Infinity'.length - 1;
      from = i + 1;
    }
  }
  return out + text.slice(from);
}

/**
 * Which outputs of an answer go as binary data: an output's own `parameters.binary_data` decides, else
 * the request's `parameters.binary_data_output`, else JSON. Checked before the model runs, so a bad
 * flag costs no inference. Shared memory and classification (other Triton extensions) are refused
 * rather than silently answered in another form than asked.
 */
export function binaryOutputChoice(request: {
  readonly parameters?: Json | undefined;
  readonly inputs: readonly { readonly name: string; readonly parameters?: Json | undefined }[];
  readonly outputs?: readonly { readonly name: string; readonly parameters?: Json | undefined }[] | undefined;
}): (name: string) => boolean {
  const flag = (value: unknown, where: string): boolean | undefined => {
    if (value === undefined || typeof value === 'boolean') return value;
    throw badBody('BAD_REQUEST', `${where} must be true or false`);
  };
  const unsupported = (params: Json | undefined, where: string) => {
    if (params === undefined) return;
    for (const key of ['shared_memory_region', 'shared_memory_byte_size', 'shared_memory_offset']) {
      if (params[key] !== undefined) {
        throw badBody(
          'SHARED_MEMORY_UNSUPPORTED',
          `${where} uses ${key}: shared memory is not supported; send the data in the body`,
        );
      }
    }
    if (params.classification !== undefined && params.classification !== 0) {
      throw badBody('CLASSIFICATION_UNSUPPORTED', `${where} asks for classification, which is not supported`);
    }
  };
  for (const input of request.inputs) unsupported(input.parameters, `input '${input.name.slice(0, 64)}'`);
  const all = flag(request.parameters?.binary_data_output, 'parameters.binary_data_output') ?? false;
  const own = new Map<string, boolean>();
  for (const output of request.outputs ?? []) {
    const where = `output '${output.name.slice(0, 64)}'`;
    unsupported(output.parameters, where);
    const binary = flag(output.parameters?.binary_data, `${where} parameters.binary_data`);
    if (binary !== undefined) own.set(output.name, binary);
  }
  return (name) => own.get(name) ?? all;
}

/**
 * The answer with the chosen outputs as binary data: JSON header (their `data` replaced by
 * `parameters.binary_data_size`), then their little-endian FP32 bytes in the header's order. Undefined
 * when no output is binary: the answer then goes as plain JSON.
 */
export function encodeBinaryAnswer(
  answer: InferResponse,
  binary: (name: string) => boolean,
): { readonly headerLength: number; readonly body: Buffer } | undefined {
  if (!answer.outputs.some((o) => binary(o.name))) return undefined;
  const blocks: Buffer[] = [];
  const outputs = answer.outputs.map((o) => {
    if (!binary(o.name)) return o;
    const block = Buffer.allocUnsafe(o.data.length * 4);
    for (let i = 0; i < o.data.length; i++) block.writeFloatLE(o.data[i]!, i * 4);
    blocks.push(block);
    return {
      name: o.name,
      datatype: o.datatype,
      shape: o.shape,
      parameters: { binary_data_size: block.length },
    };
  });
  const header = Buffer.from(JSON.stringify({ ...answer, outputs }), 'utf8');
  return { headerLength: header.length, body: Buffer.concat([header, ...blocks]) };
}
