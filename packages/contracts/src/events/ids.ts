import { z } from 'zod';
import { DONG_CODE_PATTERN } from '../geo.ts';

/**
 * Identifiers that events and the estimate API share. This file imports nothing of the package but geo.ts, so both
 * `estimates.ts` (the precise request's `orderId`) and the event schemas can use it without a cycle.
 */

export const ORDER_ID_MAX_LENGTH = 64;

/**
 * An order as the ordering system names it: 1 to 64 characters of letters, digits and `. _ : -`, starting
 * with a letter or digit (a UUID, a ULID, `0x4607`, `ord_2026-11-27:123` all fit). The precise estimate
 * request carries it at checkout and tracking, the `orders` events are keyed by it, and the live-accuracy
 * join matches predictions to deliveries on it.
 */
export const OrderId = z
  .string({ error: 'expected an order id (string)' })
  .min(1, { error: 'an order id is not empty' })
  .max(ORDER_ID_MAX_LENGTH, { error: `an order id has at most ${ORDER_ID_MAX_LENGTH} characters` })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, {
    error: 'an order id is letters, digits and . _ : - (starting with a letter or digit)',
  });
export type OrderId = z.infer<typeof OrderId>;

/** The estimate request's `x-request-id` as the service kit keeps it (a caller's, or a fresh UUID). */
export const RequestId = z.string().regex(/^[\w.:@+=/-]{1,128}$/, { error: 'expected a request id' });

/** An H3 cell index as a 15-hex-digit string (h3-js `latLngToCell`); its resolution is part of it. */
export const H3Cell = z.string().regex(/^[0-9a-f]{15}$/, { error: 'expected an H3 cell index' });

/** 10-digit administrative dong code (행정기관코드), as Geo's regions and live statistics use it. */
export const DongCode = z.string().regex(DONG_CODE_PATTERN, { error: 'expected a 10-digit dong code' });
