/**
 * What a BFF pod does before it listens (service-kit warm-ups), so its first requests are not its slowest:
 * every store read into the catalogue's cache in a few batched reads, instead of one database read per
 * first request of each store; then a few thousand precise estimates through the whole path (catalogue,
 * Geo, the ML proxy, the fallback ladder), so the code is compiled, the heaps have grown and the
 * connection pools to Geo and the ML proxy are open before real traffic arrives.
 */
import type { DeadlineLike } from '@eta/service-kit';
import { SEOUL_INNER_BOX as BOX, type PreciseEstimateRequest } from '@eta/contracts';
import type { StoreCatalog } from './stores.ts';

export interface WarmUpDeps {
  readonly catalog: StoreCatalog;
  /** Pages of store ids in ascending order, after `afterId`; absent without a database (tests). */
  readonly listStoreIds?: (afterId: number, limit: number) => Promise<readonly number[]>;
  readonly precise: (req: PreciseEstimateRequest, deadline: DeadlineLike) => Promise<unknown>;
  /** Resolves when the models' layouts were checked, so the estimates reach the model. */
  readonly modelsChecked?: Promise<void>;
}

export interface WarmUpSettings {
  /** Most stores read into the cache. */
  readonly maxStores: number;
  /** Precise estimates run through the path. */
  readonly estimates: number;
  /** Estimates in flight at once. */
  readonly concurrency: number;
  /** Per estimate, like a caller's. */
  readonly estimateBudgetMs: number;
}

export interface WarmUpOutcome {
  readonly stores: number;
  readonly estimates: number;
}

const PAGE = 500;

export async function warmUp(
  deps: WarmUpDeps,
  settings: WarmUpSettings,
  deadline: DeadlineLike,
): Promise<WarmUpOutcome> {
  const ids: number[] = [];
  if (deps.listStoreIds !== undefined) {
    let after = 0;
    while (ids.length < settings.maxStores && deadline.remainingMs() > 0) {
      const page = await deps.listStoreIds(after, Math.min(PAGE, settings.maxStores - ids.length));
      if (page.length === 0) break;
      await deps.catalog.getMany(page);
      ids.push(...page);
      after = page[page.length - 1]!;
    }
  }
  if (ids.length === 0 || settings.estimates <= 0) return { stores: ids.length, estimates: 0 };
  await deps.modelsChecked;

  // Any spread of stores and destinations warms the path; nothing needs to repeat from one start to the next.
  const random = Math.random;
  let started = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (started < settings.estimates && deadline.remainingMs() > settings.estimateBudgetMs) {
      started += 1;
      const storeId = ids[Math.floor(random() * ids.length)]!;
      const destination = {
        lat: BOX.minLat + random() * (BOX.maxLat - BOX.minLat),
        lng: BOX.minLng + random() * (BOX.maxLng - BOX.minLng),
      };
      const budgetEnds = performance.now() + settings.estimateBudgetMs;
      const budget = { remainingMs: () => Math.max(0, Math.floor(budgetEnds - performance.now())) };
      // A refused or degraded estimate warms the path as well; only the count matters here.
      await deps.precise({ storeId, destination }, budget).catch(() => undefined);
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: settings.concurrency }, worker));
  return { stores: ids.length, estimates: done };
}
