// The wire contract of the suite's topics: how a received payload is decoded (typed reasons, an unknown
// version refused rather than guessed at), what the topics are called and keyed by, event ids, and the
// dead-letter copy's headers. Pure: no broker (kafka/streams integration tests run them on one).
import {
  DLQ_HEADERS,
  DLQ_REASONS,
  dlqTopicName,
  envelope,
  EVENT_TOPICS,
  EventId,
  eventTopic,
  ORDERS_TOPIC,
  type OrderEvent,
  PreciseEstimateRequest,
  PREDICTIONS_TOPIC,
  prefixedTopic,
  SETTINGS_CHANGED_TOPIC,
  TOPIC_NAMES,
} from '@eta/contracts';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { decodeEvent, deadLetterOf, defineTopic, newEventId } from '../src/index.ts';

const delivered = {
  eventId: '0190f5a3-7b1c-7d2e-8f00-0123456789ab',
  schemaVersion: 1,
  type: 'delivered',
  occurredAt: '2026-11-27T12:31:00+09:00',
  orderId: 'ord-1',
  storeId: 42,
  dongCode: '1144066000',
  orderedAt: '2026-11-27T12:00:00+09:00',
  actualMinutes: 31,
} as const;

const json = (v: unknown) => JSON.stringify(v);

describe('decodeEvent on a versioned topic', () => {
  it('decodes a valid event into its typed value', () => {
    const d = decodeEvent(ORDERS_TOPIC, json(delivered));
    expect(d).toEqual({ ok: true, value: delivered });
  });

  it('decodes bytes as they come off the wire', () => {
    const d = decodeEvent(ORDERS_TOPIC, Buffer.from(json(delivered)));
    expect(d.ok && d.value.type === 'delivered' && d.value.actualMinutes).toBe(31);
  });

  it('refuses an unknown schemaVersion even when its fields would pass as version 1', () => {
    const d = decodeEvent(ORDERS_TOPIC, json({ ...delivered, schemaVersion: 2 }));
    expect(d).toMatchObject({ ok: false, reason: 'unknown-version' });
    expect(!d.ok && d.detail).toMatch(/delivered schemaVersion 2 .*\(1\)/);
  });

  it.each([
    ['empty', null, /empty/],
    ['empty', '', /empty/],
    ['not-json', '{"eventId":', /not JSON/],
    ['not-json', Buffer.from([0xff, 0xfe, 0x7b]), /UTF-8/],
    ['schema', json([delivered]), /event object/],
    ['schema', json({ ...delivered, type: 7 }), /^type/],
    ['schema', json({ ...delivered, schemaVersion: '1' }), /^schemaVersion/],
    ['unknown-type', json({ ...delivered, type: 'refunded' }), /refunded/],
    ['unknown-type', json({ ...delivered, type: 'constructor' }), /constructor/],
    ['schema', json({ ...delivered, dongCode: 'Mapo' }), /dongCode/],
    ['schema', json({ ...delivered, actualMinutes: undefined }), /actualMinutes/],
    ['schema', json({ ...delivered, eventId: 'not-an-id' }), /eventId/],
  ] as const)('%s: %j', (reason, raw, detail) => {
    const d = decodeEvent(ORDERS_TOPIC, raw);
    expect(d.ok).toBe(false);
    if (d.ok) return;
    expect(d.reason).toBe(reason);
    expect(d.detail).toMatch(detail);
  });

  it('every failure reason is a dead-letter reason of the contract', () => {
    const reasons = ['empty', 'not-json', 'unknown-type', 'unknown-version', 'schema'] as const;
    for (const r of reasons) expect(DLQ_REASONS).toContain(r);
  });

  it('without versions (defineTopic), a type or version it does not know is a schema failure', () => {
    const plain = defineTopic('plain', ORDERS_TOPIC.schema);
    const d = decodeEvent(plain, json({ ...delivered, schemaVersion: 2 }));
    expect(d).toMatchObject({ ok: false, reason: 'schema' });
  });
});

describe('topics of the contract', () => {
  it('are named as terraform/envs creates them, each with a .dlq beside it', () => {
    expect(TOPIC_NAMES).toEqual(['orders', 'predictions', 'settings-changed']);
    expect(Object.values(EVENT_TOPICS).map((t) => t.name)).toEqual(TOPIC_NAMES);
    expect(TOPIC_NAMES.map(dlqTopicName)).toEqual(['orders.dlq', 'predictions.dlq', 'settings-changed.dlq']);
  });

  it('know their types and versions from the schema', () => {
    expect(ORDERS_TOPIC.versions).toEqual({
      created: [1],
      'rider-assigned': [1],
      'picked-up': [1],
      delivered: [1],
      cancelled: [1],
    });
    expect(PREDICTIONS_TOPIC.versions).toEqual({ prediction: [1] });
    expect(SETTINGS_CHANGED_TOPIC.versions).toEqual({ 'settings-changed': [1] });
  });

  it('a version 2 nested beside version 1 is known and decoded; a version 3 is still refused', () => {
    const v1 = z.object({ ...envelope('ping', 1), n: z.number() });
    const v2 = z.object({ ...envelope('ping', 2), n: z.number(), unit: z.string() });
    const other = z.object({ ...envelope('pong', 1) });
    const topic = eventTopic(
      'pings',
      z.discriminatedUnion('type', [z.discriminatedUnion('schemaVersion', [v1, v2]), other]),
      (e) => e.eventId,
    );
    expect(topic.versions).toEqual({ ping: [1, 2], pong: [1] });
    const base = { eventId: newEventId(), occurredAt: '2026-01-01T00:00:00Z', type: 'ping' };
    expect(decodeEvent(topic, json({ ...base, schemaVersion: 2, n: 1, unit: 'm' })).ok).toBe(true);
    expect(decodeEvent(topic, json({ ...base, schemaVersion: 3, n: 1 }))).toMatchObject({
      reason: 'unknown-version',
    });
  });

  it('refuses a schema whose options have no literal type and version', () => {
    expect(() => eventTopic('x', z.object({ type: z.string() }), () => 'k')).toThrow(/literal/);
    expect(() => eventTopic('bad/name', ORDERS_TOPIC.schema, () => 'k')).toThrow(/topic name/);
  });

  it('keys orders by order id, predictions by order id else request id, settings by store', () => {
    expect(ORDERS_TOPIC.keyOf(delivered as OrderEvent)).toBe('ord-1');
    const precise = {
      eventId: newEventId(),
      schemaVersion: 1,
      type: 'prediction',
      occurredAt: '2026-11-27T12:00:00Z',
      kind: 'precise',
      requestId: 'req-9',
      orderId: 'ord-1',
      storeId: 42,
      destinationCell: '8930e1d8a0bffff',
      model: null,
      features: null,
      quantiles: null,
      shownMinutes: 25,
      shownRange: { low: 21, high: 31 },
      source: 'manual',
      degraded: false,
    } as const;
    expect(PREDICTIONS_TOPIC.schema.parse(precise)).toEqual(precise);
    expect(PREDICTIONS_TOPIC.keyOf(precise)).toBe('ord-1');
    expect(PREDICTIONS_TOPIC.keyOf({ ...precise, orderId: null })).toBe('req-9');
    // A settings change is the admin history's record of it (SettingsHistoryItem) with the store's id.
    const settings = {
      storeId: 7,
      autoPrediction: true,
      manualPrepMinutes: 10,
      manualDeliveryMinutes: 15,
      minShownMinutes: null,
      maxShownMinutes: null,
      busy: null,
      updatedAt: '2026-11-27T12:00:00+09:00',
      version: 3,
    };
    const change = {
      eventId: newEventId(),
      schemaVersion: 1,
      type: 'settings-changed',
      occurredAt: '2026-11-27T12:00:00+09:00',
      storeId: 7,
      auditId: 19,
      actor: 'owner-7',
      before: settings,
      after: { ...settings, busy: { extraMinutes: 10, until: '2026-11-27T13:00:00+09:00' }, version: 4 },
    };
    const decoded = decodeEvent(SETTINGS_CHANGED_TOPIC, json(change));
    expect(decoded).toEqual({ ok: true, value: change });
    expect(decoded.ok && SETTINGS_CHANGED_TOPIC.keyOf(decoded.value)).toBe('7');
  });

  it('a prefix renames a topic and keeps its schema, versions and key', () => {
    const t = prefixedTopic(PREDICTIONS_TOPIC, 'staging.');
    expect(t.name).toBe('staging.predictions');
    expect(t.schema).toBe(PREDICTIONS_TOPIC.schema);
    expect(t.versions).toBe(PREDICTIONS_TOPIC.versions);
    expect(prefixedTopic(PREDICTIONS_TOPIC, '')).toBe(PREDICTIONS_TOPIC);
    expect(() => prefixedTopic(PREDICTIONS_TOPIC, 'a/b')).toThrow(/prefix/);
  });
});

describe('the precise request takes an optional orderId', () => {
  const base = { storeId: 1, destination: { lat: 37.5, lng: 127 } };
  it.each(['0x4607', 'ord_2026-11-27:123', '01ARZ3NDEKTSV4RRFFQ69G5FAV', 'a'.repeat(64)])(
    'accepts %s',
    (id) => {
      expect(PreciseEstimateRequest.safeParse({ ...base, orderId: id }).success).toBe(true);
    },
  );
  it.each(['', 'a'.repeat(65), '-leading', 'has space', 'ümlaut', 12])('refuses %j', (id) => {
    expect(PreciseEstimateRequest.safeParse({ ...base, orderId: id }).success).toBe(false);
  });
  it('is optional', () => {
    expect(PreciseEstimateRequest.safeParse(base).success).toBe(true);
  });
});

describe('newEventId', () => {
  it('is a version-7 UUID whose first 48 bits are the milliseconds, valid as an EventId', () => {
    const at = Date.UTC(2026, 10, 27, 3, 4, 5, 678);
    const id = newEventId(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at);
    expect(EventId.safeParse(id).success).toBe(true);
  });

  it('never repeats, across many pool refills within one millisecond', () => {
    const ids = new Set(Array.from({ length: 20_000 }, () => newEventId(1_700_000_000_000)));
    expect(ids.size).toBe(20_000);
  });
});

describe('deadLetterOf', () => {
  it('keeps key, value and headers, and says why and where from', () => {
    const value = Buffer.from([0x7b, 0xff]);
    const at = new Date('2026-11-27T03:00:00Z');
    const dead = deadLetterOf(
      {
        topic: 'orders',
        partition: 2,
        offset: '41',
        key: 'ord-1',
        value,
        headers: { traceparent: 'abc' },
        timestamp: '1764205200000',
      },
      'not-json',
      'x'.repeat(5_000),
      'eta-live-stats',
      at,
    );
    expect(dead.topic).toBe('orders.dlq');
    expect(dead.message.key).toBe('ord-1');
    expect(dead.message.value).toBe(value);
    expect(dead.message.headers).toEqual({
      traceparent: 'abc',
      [DLQ_HEADERS.reason]: 'not-json',
      [DLQ_HEADERS.detail]: 'x'.repeat(1_000),
      [DLQ_HEADERS.topic]: 'orders',
      [DLQ_HEADERS.partition]: '2',
      [DLQ_HEADERS.offset]: '41',
      [DLQ_HEADERS.group]: 'eta-live-stats',
      [DLQ_HEADERS.timestamp]: '1764205200000',
      [DLQ_HEADERS.at]: '2026-11-27T03:00:00.000Z',
    });
  });
});
