// The consumers benchmark's rough events (lib/events/order-stream.ts): valid per @eta/contracts, the size
// the prediction log's store-list events have, the same for a seed, and marked by predictionHeaders.
import { PREDICTIONS_TOPIC, predictionHeaders, PREDICTION_JOIN_HEADER } from '@eta/contracts';
import { describe, expect, it } from 'vitest';
import { ROUGH_EVENT_STORES, roughPredictionEvents } from '../lib/events/order-stream.ts';

describe('roughPredictionEvents', () => {
  it('builds valid store-list events of 50 stores, the same for a seed, with no order to join', () => {
    let id = 0;
    const newId = () => `0190f5a3-7b1c-7d2e-8f00-${String(id++).padStart(12, '0')}`;
    const events = [...roughPredictionEvents(5, 7, newId)];
    expect(events).toHaveLength(5);
    for (const e of events) {
      const parsed = PREDICTIONS_TOPIC.schema.safeParse(e);
      expect(parsed.success, JSON.stringify(parsed.error?.issues.slice(0, 3))).toBe(true);
      expect(e.items).toHaveLength(ROUGH_EVENT_STORES);
      expect(predictionHeaders(e)).toEqual({ [PREDICTION_JOIN_HEADER]: 'none' });
      // About the size the prediction log's rough events have (21 kB with the BFF's rows).
      expect(JSON.stringify(e).length).toBeGreaterThan(10_000);
    }
    id = 0;
    const again = [...roughPredictionEvents(5, 7, newId)];
    expect(again.map((e) => e.items.map((i) => [i.storeId, i.quantiles]))).toEqual(
      events.map((e) => e.items.map((i) => [i.storeId, i.quantiles])),
    );
  });
});
