// What real Open Inference Protocol clients send, through inject: Python's tritonclient.http posts without a
// Content-Type, writes NaN literally in JSON, and uses the binary tensor data extension by default
// (issue 12, defect 1); and the ranges of each feature (defect 6). The same client runs for real against a
// real process in test/v2-client (pytest).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MlProxyApp } from '../../src/app.ts';
import { nonFiniteAsJson, parseV2Json } from '../../src/http/v2-body.ts';
import {
  type Fixture,
  fixture,
  inferBody,
  MODELS,
  NEWEST,
  REFERENCE_REPOSITORY,
  REFERENCE_VERSIONS,
  startApp,
} from '../helpers.ts';

/** A row as FP32 little-endian bytes, null (unknown) as NaN: what numpy's tobytes() gives tritonclient. */
function fp32(values: readonly (number | null)[]): Buffer {
  const out = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => out.writeFloatLE(v ?? Number.NaN, i * 4));
  return out;
}

/** A binary tensor data request: JSON header, then the blocks, and the header's length in the header. */
function binaryRequest(header: object, blocks: readonly Buffer[]) {
  const json = Buffer.from(JSON.stringify(header));
  return {
    payload: Buffer.concat([json, ...blocks]),
    headers: { 'inference-header-content-length': String(json.length) },
  };
}

interface BinaryAnswer {
  json: {
    model_name: string;
    model_version: string;
    outputs: {
      name: string;
      datatype: string;
      shape: number[];
      data?: number[];
      parameters?: { binary_data_size: number };
    }[];
  };
  values: Record<string, number[]>;
}

/** Reads an answer the way tritonclient's InferResult does. */
function readBinaryAnswer(headers: Record<string, unknown>, body: Buffer): BinaryAnswer {
  const length = Number(headers['inference-header-content-length']);
  expect(Number.isSafeInteger(length)).toBe(true);
  const json = JSON.parse(body.subarray(0, length).toString('utf8')) as BinaryAnswer['json'];
  const values: Record<string, number[]> = {};
  let offset = length;
  for (const o of json.outputs) {
    const size = o.parameters?.binary_data_size;
    if (size === undefined) continue;
    values[o.name] = Array.from({ length: size / 4 }, (_, i) => body.readFloatLE(offset + i * 4));
    offset += size;
  }
  expect(offset).toBe(body.length);
  return { json, values };
}

describe('V2 bodies as real clients send them', { timeout: 60_000 }, () => {
  let app: MlProxyApp;
  let precise: Fixture;
  let rough: Fixture;

  beforeAll(async () => {
    [precise, rough] = await Promise.all([fixture('eta-precise', NEWEST), fixture('eta-rough', NEWEST)]);
    app = await startApp();
  }, 60_000);
  afterAll(() => app.close());

  const inferUrl = (model: string, version?: string) =>
    version === undefined ? `/v2/models/${model}/infer` : `/v2/models/${model}/versions/${version}/infer`;

  /** Asserts the golden outputs of the fixture's first `rows` rows. */
  const expectGolden = (fx: Fixture, name: string, values: readonly number[]) => {
    values.forEach((v, i) => {
      expect(Math.abs(v - fx.expected[name]![i]!)).toBeLessThanOrEqual(fx.tolerance);
    });
  };

  describe('regression: tritonclient could not infer (415 to a POST without Content-Type)', () => {
    it('reads a body without a content type as JSON', async () => {
      const res = await app.inject({
        method: 'POST',
        url: inferUrl('eta-precise'),
        // A string payload: inject adds no content-type, as tritonclient sends none.
        payload: JSON.stringify(inferBody(precise, 2)),
      });
      expect(res.statusCode).toBe(200);
      const p50 = res
        .json<{ outputs: { name: string; data: number[] }[] }>()
        .outputs.find((o) => o.name === 'p50');
      expectGolden(precise, 'p50', p50!.data);
    });

    it('reads NaN written literally as unknown where the feature is nullable', async () => {
      const body = JSON.stringify(inferBody(precise, 4)).replaceAll('null', 'NaN');
      expect(body).toContain('NaN');
      const res = await app.inject({ method: 'POST', url: inferUrl('eta-precise'), payload: body });
      expect(res.statusCode).toBe(200);
      const p90 = res
        .json<{ outputs: { name: string; data: number[] }[] }>()
        .outputs.find((o) => o.name === 'p90');
      expectGolden(precise, 'p90', p90!.data);
    });

    it('refuses a literal NaN in a feature that does not allow missing values: 400 MISSING_VALUE_NOT_ALLOWED', async () => {
      const hour = precise.features.findIndex((f) => f.name === 'hour_of_day');
      expect(precise.features[hour]!.nullable).toBe(false);
      const data = precise.rows[0]!.map((v, i) => (i === hour ? 'NaN' : JSON.stringify(v)));
      const payload = `{"inputs":[{"name":"features","shape":[1,${precise.width}],"datatype":"FP32","data":[${data.join(',')}]}]}`;
      const res = await app.inject({ method: 'POST', url: inferUrl('eta-precise'), payload });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        error: expect.stringMatching(/hour_of_day\) is missing/),
        code: 'MISSING_VALUE_NOT_ALLOWED',
      });
    });

    it('binary tensor data: inputs as raw FP32 after the JSON header, outputs answered the same way', async () => {
      const rows = 3;
      const values = Array.from({ length: rows }, (_, r) => precise.rows[r]!).flat();
      const { payload, headers } = binaryRequest(
        {
          id: 'bin-1',
          inputs: [
            {
              name: 'features',
              shape: [rows, precise.width],
              datatype: 'FP32',
              parameters: { binary_data_size: values.length * 4 },
            },
          ],
          outputs: [
            { name: 'p50', parameters: { binary_data: true } },
            { name: 'p10', parameters: { binary_data: false } },
          ],
        },
        [fp32(values)],
      );
      const res = await app.inject({
        method: 'POST',
        url: inferUrl('eta-precise', NEWEST),
        payload,
        headers,
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/octet-stream');
      const answer = readBinaryAnswer(res.headers, res.rawPayload);
      expect(answer.json).toMatchObject({ model_name: 'eta-precise', model_version: NEWEST, id: 'bin-1' });
      expect(
        answer.json.outputs.map((o) => [o.name, o.parameters?.binary_data_size, o.data?.length]),
      ).toEqual([
        ['p50', rows * 4, undefined],
        ['p10', undefined, rows],
      ]);
      expectGolden(precise, 'p50', answer.values['p50']!);
      expectGolden(precise, 'p10', answer.json.outputs[1]!.data!);
    });

    it("binary_data_output: every output binary (tritonclient's default without an outputs list)", async () => {
      const { payload, headers } = binaryRequest(
        {
          inputs: [
            {
              name: 'features',
              shape: [1, rough.width],
              datatype: 'FP32',
              parameters: { binary_data_size: rough.width * 4 },
            },
          ],
          parameters: { binary_data_output: true },
        },
        [fp32(rough.rows[0]!)],
      );
      const res = await app.inject({ method: 'POST', url: inferUrl('eta-rough'), payload, headers });
      expect(res.statusCode).toBe(200);
      const answer = readBinaryAnswer(res.headers, res.rawPayload);
      expect(Object.keys(answer.values)).toEqual(['p10', 'p50', 'p90']);
      for (const name of ['p10', 'p50', 'p90']) expectGolden(rough, name, answer.values[name]!);
    });

    it('JSON inputs with binary outputs, and binary inputs with a JSON answer', async () => {
      const jsonIn = await app.inject({
        method: 'POST',
        url: inferUrl('eta-rough'),
        payload: JSON.stringify(
          inferBody(rough, 1, { outputs: [{ name: 'p90', parameters: { binary_data: true } }] }),
        ),
      });
      expect(jsonIn.statusCode).toBe(200);
      expectGolden(rough, 'p90', readBinaryAnswer(jsonIn.headers, jsonIn.rawPayload).values['p90']!);

      const { payload, headers } = binaryRequest(
        {
          inputs: [
            {
              name: 'features',
              shape: [1, rough.width],
              datatype: 'FP32',
              parameters: { binary_data_size: rough.width * 4 },
            },
          ],
        },
        [fp32(rough.rows[0]!)],
      );
      const binIn = await app.inject({ method: 'POST', url: inferUrl('eta-rough'), payload, headers });
      expect(binIn.statusCode).toBe(200);
      expect(binIn.headers['inference-header-content-length']).toBeUndefined();
      const p50 = binIn
        .json<{ outputs: { name: string; data: number[] }[] }>()
        .outputs.find((o) => o.name === 'p50');
      expectGolden(rough, 'p50', p50!.data);
    });

    it('says so in the server metadata', async () => {
      expect((await app.inject('/v2')).json<{ extensions: string[] }>().extensions).toContain(
        'binary_tensor_data',
      );
    });
  });

  describe('malformed binary data and unsupported bodies: 4xx with a stable code, never a 5xx', () => {
    const width = () => rough.width;
    const header = (size: number, extra: Record<string, unknown> = {}) => ({
      inputs: [
        {
          name: 'features',
          shape: [1, width()],
          datatype: 'FP32',
          parameters: { binary_data_size: size },
          ...extra,
        },
      ],
    });
    const cases: [
      string,
      () => { payload: Buffer | string; headers: Record<string, string> },
      number,
      string,
      RegExp,
    ][] = [
      [
        'header length beyond the body',
        () => ({ payload: '{}', headers: { 'inference-header-content-length': '99' } }),
        400,
        'BINARY_DATA_INVALID',
        /at most the body's 2 bytes/,
      ],
      [
        'header length not a number',
        () => ({ payload: '{}', headers: { 'inference-header-content-length': 'abc' } }),
        400,
        'BINARY_DATA_INVALID',
        /Inference-Header-Content-Length/,
      ],
      [
        'fewer bytes than declared',
        () => binaryRequest(header(width() * 4), [fp32(rough.rows[0]!).subarray(4)]),
        400,
        'BINARY_DATA_INVALID',
        /declares \d+ bytes/,
      ],
      [
        'more bytes than declared',
        () => binaryRequest(header(width() * 4), [fp32(rough.rows[0]!), Buffer.alloc(4)]),
        400,
        'BINARY_DATA_INVALID',
        /4 bytes follow the JSON header beyond/,
      ],
      [
        'FP32 size not a multiple of 4',
        () => binaryRequest(header(width() * 4 - 1), [fp32(rough.rows[0]!).subarray(1)]),
        400,
        'BINARY_DATA_INVALID',
        /not a multiple of 4/,
      ],
      [
        'binary_data_size not a byte count',
        () => binaryRequest(header(-4), []),
        400,
        'BINARY_DATA_INVALID',
        /binary_data_size -4/,
      ],
      [
        'both data and binary data',
        () => binaryRequest(header(width() * 4, { data: rough.rows[0] }), [fp32(rough.rows[0]!)]),
        400,
        'BINARY_DATA_INVALID',
        /both data and binary_data_size/,
      ],
      [
        'a binary value out of range (distance -5 km)',
        () => binaryRequest(header(width() * 4), [fp32([-5, ...rough.rows[0]!.slice(1)])]),
        400,
        'INPUT_OUT_OF_RANGE',
        /distance_km\) is -5, outside its range 0 to 30 km/,
      ],
      [
        'a binary NaN where not allowed (hour)',
        () => binaryRequest(header(width() * 4), [fp32([2, null, ...rough.rows[0]!.slice(2)])]),
        400,
        'MISSING_VALUE_NOT_ALLOWED',
        /hour_of_day\) is missing/,
      ],
      [
        'binary data of another datatype',
        () =>
          binaryRequest(
            {
              inputs: [
                {
                  name: 'features',
                  shape: [1, width()],
                  datatype: 'FP64',
                  parameters: { binary_data_size: width() * 8 },
                },
              ],
            },
            [Buffer.alloc(width() * 8)],
          ),
        400,
        'BAD_REQUEST',
        /datatype FP64; the model expects FP32/,
      ],
      [
        'a JSON header that is not JSON',
        () => ({ payload: '{"inputs": [}', headers: { 'inference-header-content-length': '13' } }),
        400,
        'MALFORMED_JSON',
        /not valid JSON/,
      ],
      [
        'shared memory',
        () => ({
          payload: JSON.stringify({
            inputs: [{ name: 'features', shape: [1, width()], datatype: 'FP32', data: rough.rows[0] }],
            outputs: [{ name: 'p50', parameters: { shared_memory_region: 'r', shared_memory_byte_size: 4 } }],
          }),
          headers: {},
        }),
        400,
        'SHARED_MEMORY_UNSUPPORTED',
        /shared memory is not supported/,
      ],
      [
        'binary_data not a boolean',
        () => ({
          payload: JSON.stringify(
            inferBody(rough, 1, { outputs: [{ name: 'p50', parameters: { binary_data: 'yes' } }] }),
          ),
          headers: {},
        }),
        400,
        'BAD_REQUEST',
        /binary_data must be true or false/,
      ],
      [
        'a content type that is neither JSON nor binary',
        () => ({ payload: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        /not accepted/,
      ],
      [
        'a compressed body',
        () => ({
          payload: JSON.stringify(inferBody(rough, 1)),
          headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        }),
        415,
        'UNSUPPORTED_CONTENT_ENCODING',
        /uncompressed/,
      ],
      [
        'a prototype key',
        () => ({ payload: '{"__proto__": {"x": 1}, "inputs": []}', headers: {} }),
        400,
        'MALFORMED_JSON',
        /prototype/,
      ],
    ];
    it.each(cases)('%s', async (_what, make, status, code, message) => {
      const { payload, headers } = make();
      const res = await app.inject({ method: 'POST', url: inferUrl('eta-rough'), payload, headers });
      expect(res.statusCode).toBe(status);
      expect(res.json()).toEqual({ error: expect.stringMatching(message), code });
    });
  });

  describe('regression: distance -5 km and hour 99 were served (issue 12, defect 6)', () => {
    const withValue = (fx: Fixture, feature: string, value: number) => {
      const col = fx.features.findIndex((f) => f.name === feature);
      const body = inferBody(fx, 2);
      body.inputs[0]!.data[fx.width + col] = value;
      return body;
    };
    it.each([
      ['eta-rough', 'distance_km', -5, /row 1, column 0 \(distance_km\) is -5, outside its range 0 to 30 km/],
      [
        'eta-precise',
        'hour_of_day',
        99,
        /row 1, column 1 \(hour_of_day\) is 99, outside its range 0 to 23 hour/,
      ],
      ['eta-precise', 'rider_rating', 5.5, /\(rider_rating\) is 5.5, outside its range 1 to 5 stars/],
    ])(
      '%s: %s = %d is a 400 INPUT_OUT_OF_RANGE naming the feature and its range',
      async (model, feature, value, message) => {
        const fx = model === 'eta-rough' ? rough : precise;
        for (const version of [undefined, ...REFERENCE_VERSIONS]) {
          const res = await app.inject({
            method: 'POST',
            url: inferUrl(model, version),
            payload: withValue(fx, feature, value),
          });
          expect(res.statusCode).toBe(400);
          expect(res.json()).toEqual({ error: expect.stringMatching(message), code: 'INPUT_OUT_OF_RANGE' });
        }
      },
    );

    it('the model metadata lists each range, which the edges of are accepted', async () => {
      const meta = (await app.inject('/v2/models/eta-rough')).json<{
        parameters: { features: { name: string; range?: [number, number] }[] };
      }>();
      const ranges = Object.fromEntries(meta.parameters.features.map((f) => [f.name, f.range]));
      expect(ranges).toMatchObject({ distance_km: [0, 30], hour_of_day: [0, 23], day_of_week: [0, 6] });
      expect(ranges['weather']).toBeUndefined();
      const edge = inferBody(rough, 1);
      edge.inputs[0]!.data[0] = 30;
      edge.inputs[0]!.data[1] = 23;
      const res = await app.inject({ method: 'POST', url: inferUrl('eta-rough'), payload: edge });
      expect(res.statusCode).toBe(200);
    });
  });
});

describe('the committed models declare a range or codes for every feature, and their golden rows honour them', () => {
  it.each(MODELS.flatMap((m) => REFERENCE_VERSIONS.map((v) => [m, v] as const)))(
    '%s v%s',
    async (model, version) => {
      const dir = join(REFERENCE_REPOSITORY, model, version);
      const meta = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8')) as {
        features: { name: string; valid_range?: [number, number]; encoding?: Record<string, number> }[];
      };
      for (const f of meta.features) expect(f.valid_range ?? f.encoding, f.name).toBeDefined();
      // The exporter's golden inputs are valid requests: the proxy must take every one of them.
      const fx = await fixture(model, version);
      for (const row of fx.rows) {
        meta.features.forEach((f, i) => {
          const v = row[i];
          if (v === null || v === undefined || f.valid_range === undefined) return;
          expect(v, `${f.name} in ${JSON.stringify(row)}`).toBeGreaterThanOrEqual(f.valid_range[0]);
          expect(v, `${f.name} in ${JSON.stringify(row)}`).toBeLessThanOrEqual(f.valid_range[1]);
        });
      }
    },
  );
});

describe('JSON with the literals tritonclient writes', () => {
  it('reads NaN as null and ±Infinity as numbers, outside strings only', () => {
    expect(parseV2Json('{"a":[NaN, 1, -Infinity, Infinity],"s":"NaN Infinity \\" NaN"}')).toEqual({
      a: [null, 1, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY],
      s: 'NaN Infinity " NaN',
    });
    expect(nonFiniteAsJson('["\\\\",NaN]')).toBe('["\\\\",null]');
  });

  it('still refuses what is not JSON', () => {
    expect(() => parseV2Json('{"a": NaNx}')).toThrow(/not valid JSON/);
    expect(() => parseV2Json('{"a": nan}')).toThrow(/not valid JSON/);
    expect(() => parseV2Json('')).toThrow(/not valid JSON/);
  });
});
