import { randomFillSync } from 'node:crypto';

/**
 * Event ids: UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits. Time-ordered,
 * so a consumer's table of seen ids (idempotency) is appended to at its end rather than written all over
 * its index, and an id says roughly when it was minted. Within one millisecond the random bits order ids
 * arbitrarily; nothing relies on order within a millisecond.
 *
 * Random bytes come from a pool refilled 256 ids at a time: one `randomFillSync` per 256 ids instead of one
 * per id, on a path that runs for every estimate served.
 */
const IDS_PER_FILL = 256;
const pool = Buffer.alloc(IDS_PER_FILL * 10);
let used = IDS_PER_FILL;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function newEventId(now: number = Date.now()): string {
  if (used === IDS_PER_FILL) {
    randomFillSync(pool);
    used = 0;
  }
  const r = used * 10;
  used += 1;
  const ms = Math.max(0, Math.floor(now));
  // 48-bit big-endian milliseconds, as 12 hex digits.
  const time = ms.toString(16).padStart(12, '0').slice(-12);
  const b = pool;
  return (
    `${time.slice(0, 8)}-${time.slice(8, 12)}-` +
    // version 7 in the high nibble, then 12 random bits
    `7${HEX[b[r]! & 0x0f]!.slice(1)}${HEX[b[r + 1]!]!}-` +
    // variant 10 in the top two bits, then 14 random bits
    `${HEX[(b[r + 2]! & 0x3f) | 0x80]!}${HEX[b[r + 3]!]!}-` +
    HEX[b[r + 4]!]! +
    HEX[b[r + 5]!]! +
    HEX[b[r + 6]!]! +
    HEX[b[r + 7]!]! +
    HEX[b[r + 8]!]! +
    HEX[b[r + 9]!]!
  );
}
