import { badRequest } from './errors.ts';
import { type ModelSignature } from './model.ts';

/** One entry of a V2 request's `inputs`, after the HTTP schema checked its JSON types. */
export interface RequestInput {
  readonly name: string;
  readonly shape: readonly number[];
  readonly datatype: string;
  readonly data: readonly unknown[];
}

export interface RequestOutput {
  readonly name: string;
}

export interface ValidatedTensor {
  readonly data: Float32Array;
  readonly rows: number;
  /** Output names to compute and return, in the order the caller listed them (all when none listed). */
  readonly outputs: readonly string[];
}

/** float32 cannot hold larger magnitudes; they would become Infinity inside the runtime. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Checks a V2 request fully against the model's signature and packs it into one row-major Float32Array.
 * Everything a runtime could choke on is refused here with a message naming the problem, so a bad
 * tensor never reaches a backend; so is a value outside the feature's declared range (metadata
 * `valid_range`), which the model would answer without complaint but never learned. JSON has no NaN:
 * `null` (or NaN, from binary data or a client that writes the literal) stands for "unknown" and is
 * accepted only for features the model was trained with NaN for (metadata `nullable`).
 */
export function validateTensor(
  signature: ModelSignature,
  inputs: readonly RequestInput[],
  requestedOutputs: readonly RequestOutput[] | undefined,
  maxRows: number,
): ValidatedTensor {
  const spec = signature.input;
  const width = signature.features.length;
  if (inputs.length === 0) throw badRequest(`missing input '${spec.name}'`);
  for (const input of inputs) {
    if (input.name !== spec.name) {
      throw badRequest(`unexpected input '${input.name}': the model takes one input named '${spec.name}'`);
    }
  }
  if (inputs.length > 1) throw badRequest(`input '${spec.name}' given more than once`);
  const input = inputs[0]!;

  if (input.datatype !== spec.datatype) {
    throw badRequest(
      `input '${spec.name}' has datatype ${input.datatype}; the model expects ${spec.datatype}`,
    );
  }
  const shape = input.shape;
  if (shape.length !== 2 || shape[1] !== width) {
    throw badRequest(`input '${spec.name}' has shape [${shape.join(',')}]; the model expects [-1,${width}]`);
  }
  const rows = shape[0]!;
  if (!Number.isSafeInteger(rows) || rows < 1) {
    throw badRequest(`input '${spec.name}' has ${rows} rows; at least 1 is needed`);
  }
  if (rows > maxRows) {
    throw badRequest(`input '${spec.name}' has ${rows} rows; at most ${maxRows} are allowed per request`);
  }

  const data = new Float32Array(rows * width);
  const nested = input.data.length > 0 && Array.isArray(input.data[0]);
  if (nested) {
    if (input.data.length !== rows) {
      throw badRequest(`input '${spec.name}' data has ${input.data.length} rows; shape says ${rows}`);
    }
    for (let r = 0; r < rows; r++) {
      const row = input.data[r];
      if (!Array.isArray(row) || row.length !== width) {
        throw badRequest(`input '${spec.name}' data row ${r} does not have ${width} values`);
      }
      for (let c = 0; c < width; c++) data[r * width + c] = toFloat(signature, row[c], r, c);
    }
  } else {
    if (input.data.length !== rows * width) {
      throw badRequest(
        `input '${spec.name}' data has ${input.data.length} values; shape [${rows},${width}] needs ${rows * width}`,
      );
    }
    for (let i = 0; i < input.data.length; i++) {
      data[i] = toFloat(signature, input.data[i], Math.floor(i / width), i % width);
    }
  }

  return { data, rows, outputs: resolveOutputs(signature, requestedOutputs) };
}

function toFloat(signature: ModelSignature, value: unknown, row: number, col: number): number {
  const feature = signature.features[col]!;
  const where = `value at row ${row}, column ${col} (${feature.name})`;
  // NaN is "unknown" wherever it comes from: JSON null, tritonclient's literal NaN, binary FP32 NaN.
  if (value === null || Number.isNaN(value)) {
    if (feature.nullable) return Number.NaN;
    throw badRequest(
      `${where} is missing (null / NaN), which this feature does not allow; the model's metadata allows missing values only where nullable is true`,
      'MISSING_VALUE_NOT_ALLOWED',
    );
  }
  if (typeof value === 'number') {
    if (!(Math.abs(value) <= FLOAT32_MAX)) {
      throw badRequest(`${where} is out of FP32 range`, 'INPUT_OUT_OF_RANGE');
    }
    if (feature.codes !== undefined && !feature.codes.includes(value)) {
      throw badRequest(`${where} is ${value}; the codes are ${feature.codes.join(', ')}`, 'UNKNOWN_CATEGORY');
    }
    const range = feature.range;
    if (range !== undefined && !(value >= range[0] && value <= range[1])) {
      const unit = feature.unit === null ? '' : ` ${feature.unit}`;
      throw badRequest(
        `${where} is ${value}, outside its range ${range[0]} to ${range[1]}${unit}`,
        'INPUT_OUT_OF_RANGE',
      );
    }
    return value;
  }
  throw badRequest(`${where} is not a number`);
}

function resolveOutputs(
  signature: ModelSignature,
  requested: readonly RequestOutput[] | undefined,
): readonly string[] {
  const known = signature.outputs.map((o) => o.name);
  if (requested === undefined || requested.length === 0) return known;
  const names: string[] = [];
  for (const { name } of requested) {
    if (!known.includes(name)) {
      throw badRequest(`unknown output '${name}'; the model has ${known.join(', ')}`);
    }
    if (!names.includes(name)) names.push(name);
  }
  return names;
}
