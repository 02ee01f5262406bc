import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createFsModelSource } from '../src/adapters/fs-repository.ts';
import { createOnnxLoader, type OnnxExecution } from '../src/adapters/onnx.ts';
import { DEFAULT_MODEL_REPOSITORY } from '../src/config.ts';
import { parseGolden } from '../src/domain/golden.ts';
import { budgetOf, signatureFromMetadata } from '../src/domain/model.ts';
import { compareVersions } from '../src/domain/registry.ts';

/**
 * Per-row inference cost in process, through the same ONNX adapter the service uses: `inline` is the
 * runtime alone, `thread` adds the worker-thread hop, `auto` (the service's default) takes the inline
 * session up to ORT_INLINE_MAX_ROWS rows (16 here, the default) and the worker above. Used by
 * loadtest/scenarios/ml-proxy.bench.ts; runnable alone: `node services/ml-proxy/bench/row-cost.ts`.
 */
export interface RowCost {
  readonly model: string;
  readonly version: string;
  readonly execution: OnnxExecution;
  readonly batch: number;
  readonly calls: number;
  readonly usPerCall: number;
  readonly usPerRow: number;
}

/** Distinct inputs per (model, execution, batch) cell, cycled through. */
const INPUT_POOL = 256;

/** The model's versions in a repository directory, oldest first, read the way the service reads them. */
export async function versionsIn(root: string, model: string): Promise<string[]> {
  return (await createFsModelSource(root).listVersions(model)).map((l) => l.version).sort(compareVersions);
}

export async function measureRowCost(opts: {
  models: readonly string[];
  batches: readonly number[];
  /** Wall time spent per (model, execution, batch) cell. */
  cellMs: number;
  repository?: string;
  /** Versions measured per model; default: every version in the repository. */
  versions?: readonly string[];
  /** Source of the varied distances and hours (the benchmark passes a seeded one). */
  random?: () => number;
}): Promise<RowCost[]> {
  const random = opts.random ?? Math.random;
  const root = opts.repository ?? DEFAULT_MODEL_REPOSITORY;
  const results: RowCost[] = [];
  for (const model of opts.models) {
    for (const version of opts.versions ?? (await versionsIn(root, model))) {
      results.push(
        ...(await measureVersion(
          join(root, model, version),
          model,
          version,
          opts.batches,
          opts.cellMs,
          random,
        )),
      );
    }
  }
  return results;
}

async function measureVersion(
  dir: string,
  model: string,
  version: string,
  batches: readonly number[],
  cellMs: number,
  random: () => number,
): Promise<RowCost[]> {
  const results: RowCost[] = [];
  const signature = signatureFromMetadata(JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8')));
  const width = signature.features.length;
  const golden = parseGolden(JSON.parse(await readFile(join(dir, 'golden.json'), 'utf8')), width);
  const outputs = signature.outputs.map((o) => o.name);
  const distance = signature.features.findIndex((f) => f.name === 'distance_km');
  const hour = signature.features.findIndex((f) => f.name === 'hour_of_day');
  for (const execution of ['inline', 'thread', 'auto'] as const) {
    const backend = await createOnnxLoader({ intraOpThreads: 1, execution }).load({
      model,
      version,
      modelPath: join(dir, 'model.onnx'),
      signature,
    });
    try {
      for (const batch of batches) {
        // Golden rows (valid feature vectors, so tree paths are realistic) with the distance and hour varied
        // per row, as the HTTP scenario sends them, over a pool of inputs used in turn: the same tensor on
        // every call lets the CPU's caches and branch predictors learn the trees' paths, which made the
        // 50-row cost look half of what varied rows cost (0.8 against 1.55 ms per call, eta-rough).
        const pool = Array.from({ length: INPUT_POOL }, () => {
          const input = new Float32Array(batch * width);
          for (let r = 0; r < batch; r++) {
            const src = r % golden.rows;
            input.set(golden.input.subarray(src * width, (src + 1) * width), r * width);
            if (distance >= 0) input[r * width + distance] = Math.round(random() * 150) / 10;
            if (hour >= 0) input[r * width + hour] = Math.floor(random() * 24);
          }
          return input;
        });
        let next = 0;
        const input = () => pool[next++ % INPUT_POOL]!;
        const budget = budgetOf(60_000);
        for (let i = 0; i < 200; i++) await backend.infer(input(), batch, outputs, budget);
        let calls = 0;
        const started = performance.now();
        while (performance.now() - started < cellMs) {
          for (let i = 0; i < 50; i++) await backend.infer(input(), batch, outputs, budget);
          calls += 50;
        }
        const us = ((performance.now() - started) * 1000) / calls;
        results.push({ model, version, execution, batch, calls, usPerCall: us, usPerRow: us / batch });
      }
    } finally {
      await backend.close();
    }
  }
  return results;
}

if (import.meta.main) {
  const rows = await measureRowCost({
    models: ['eta-rough', 'eta-precise'],
    batches: [1, 16, 50],
    cellMs: 1000,
  });
  for (const r of rows) {
    console.log(
      `${r.model.padEnd(12)} v${r.version} ${r.execution.padEnd(6)} batch ${String(r.batch).padStart(3)}: ` +
        `${r.usPerCall.toFixed(1)} µs/call, ${r.usPerRow.toFixed(2)} µs/row`,
    );
  }
}
