import { Deadline } from '@eta/service-kit';
import { describe, expect, it } from 'vitest';
import { warmUp } from '../../src/domain/warmup.ts';
import { MemoryCatalog, view } from './estimate-fixtures.ts';

/** A catalogue that records the batches it was asked for. */
class RecordingCatalog extends MemoryCatalog {
  readonly batches: number[][] = [];
  override async getMany(ids: readonly number[]) {
    this.batches.push([...ids]);
    return super.getMany(ids);
  }
}

const ids = Array.from({ length: 1_234 }, (_, i) => i + 1);
const listStoreIds = async (after: number, limit: number) => ids.filter((id) => id > after).slice(0, limit);
const settings = { maxStores: 100_000, estimates: 300, concurrency: 8, estimateBudgetMs: 250 };

describe('BFF warm-up', () => {
  it('reads every store into the catalogue in pages, then runs the estimates over them', async () => {
    const catalog = new RecordingCatalog(ids.map((id) => view(id)));
    const asked: number[] = [];
    let inFlight = 0;
    let peak = 0;
    const outcome = await warmUp(
      {
        catalog,
        listStoreIds,
        precise: async (req) => {
          inFlight += 1;
          peak = Math.max(peak, inFlight);
          await new Promise((r) => setImmediate(r));
          inFlight -= 1;
          asked.push(req.storeId);
          // A failed estimate still counts as warming the path.
          if (req.storeId % 7 === 0) throw new Error('degraded');
          return {};
        },
      },
      settings,
      Deadline.after(60_000),
    );
    expect(outcome).toEqual({ stores: 1_234, estimates: 300 });
    expect(catalog.batches.map((b) => b.length)).toEqual([500, 500, 234]);
    expect(catalog.batches.flat()).toEqual(ids);
    expect(asked).toHaveLength(300);
    expect(asked.every((id) => id >= 1 && id <= 1_234)).toBe(true);
    expect(peak).toBe(8);
  });

  it('stops at maxStores, and runs no estimate without stores or past its deadline', async () => {
    const catalog = new RecordingCatalog(ids.map((id) => view(id)));
    let calls = 0;
    const precise = async () => {
      calls += 1;
      return {};
    };
    const limited = await warmUp(
      { catalog, listStoreIds, precise },
      { ...settings, maxStores: 600, estimates: 0 },
      Deadline.after(60_000),
    );
    expect(limited).toEqual({ stores: 600, estimates: 0 });
    expect(catalog.batches.map((b) => b.length)).toEqual([500, 100]);
    expect(await warmUp({ catalog, precise }, settings, Deadline.after(60_000))).toEqual({
      stores: 0,
      estimates: 0,
    });
    expect(await warmUp({ catalog, listStoreIds, precise }, settings, Deadline.after(0))).toEqual({
      stores: 0,
      estimates: 0,
    });
    expect(calls).toBe(0);
  });
});
