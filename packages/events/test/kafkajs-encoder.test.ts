// The kafkajs patch's encoder part (patches/kafkajs@2.2.4.patch): buffers from Buffer.allocUnsafe instead
// of zero-filled ones, and varints written straight into the buffer. Both change how bytes get there, so
// this checks the bytes: varints against an independent LEB128 / zig-zag encoder, every encoded frame
// free of whatever an unzeroed buffer held before, and a record batch whose checksum matches an
// independent CRC-32C and that kafkajs' own decoder reads back. (The broker checks real batches in
// kafka.integration.test.ts.)
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const load = createRequire(import.meta.url);

interface Encoder {
  writeVarInt(v: number): Encoder;
  writeUVarInt(v: number): Encoder;
  writeInt32(v: number): Encoder;
  writeVarIntString(v: string): Encoder;
  writeVarIntBytes(v: Buffer | string | null): Encoder;
  readonly buffer: Buffer;
  size(): number;
}
interface Decoder {
  readVarInt(): number;
  canReadBytes(n: number): boolean;
}
const EncoderClass = load('kafkajs/src/protocol/encoder.js') as new (initialSize?: number) => Encoder;
const DecoderClass = load('kafkajs/src/protocol/decoder.js') as new (buf: Buffer) => Decoder;
const { RecordBatch } = load('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (o: {
    records: unknown[];
    firstTimestamp?: number;
    maxTimestamp?: number;
  }) => Promise<Encoder>;
};
const Record = load('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (o: {
  offsetDelta: number;
  timestampDelta: number;
  key: string | null;
  value: string;
  headers: Record<string, string>;
}) => Encoder;
const decodeBatch = load('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (d: Decoder) => Promise<{
  records: { key: Buffer | null; value: Buffer; headers: Record<string, Buffer> }[];
}>;

/** LEB128 of an unsigned 32-bit value, written here from the format, not from kafkajs. */
function leb128(u: number): number[] {
  const out: number[] = [];
  let v = u >>> 0;
  do {
    let byte = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}
const zigzag = (n: number) => ((n << 1) ^ (n >> 31)) >>> 0;

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), bit by bit: independent of kafkajs' table. */
function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const SIGNED = [0, 1, -1, 63, -64, 64, -65, 127, 128, 300, -300, 8191, 8192, 2 ** 20, -(2 ** 20)];
const EDGES = [2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 31 - 1, -(2 ** 31)];

describe('kafkajs encoder, as patched here', () => {
  it('writes signed varints as zig-zag LEB128, and its decoder reads them back', () => {
    for (const n of [...SIGNED, ...EDGES]) {
      const bytes = new EncoderClass().writeVarInt(n).buffer;
      expect([...bytes], `varint ${n}`).toEqual(leb128(zigzag(n)));
      expect(new DecoderClass(bytes).readVarInt()).toBe(n);
    }
  });

  it('writes unsigned varints up to 2^32 - 1 as LEB128', () => {
    for (const u of [0, 1, 127, 128, 16_383, 16_384, 2 ** 28, 2 ** 31, 2 ** 32 - 1]) {
      expect([...new EncoderClass().writeUVarInt(u).buffer], `uvarint ${u}`).toEqual(leb128(u));
    }
  });

  it('grows across many varints without losing or reordering a byte', () => {
    // Starts at 2 bytes, so the 5-byte reserve and the doubling both happen mid-stream.
    const e = new EncoderClass(1);
    const values = Array.from({ length: 2_000 }, (_, i) => (i % 2 === 0 ? 1 : -1) * i * 104_729);
    for (const v of values) e.writeVarInt(v);
    const d = new DecoderClass(e.buffer);
    expect(values.map(() => d.readVarInt())).toEqual(values);
    expect(d.canReadBytes(1)).toBe(false);
  });

  it('hands out only the bytes written, never what a reused buffer held', () => {
    // Dirty the pool the unzeroed buffers come from, then encode: nothing of 0xAB may show.
    for (let i = 0; i < 64; i++) Buffer.allocUnsafe(512).fill(0xab);
    const e = new EncoderClass().writeInt32(7).writeVarIntString('k').writeVarIntBytes(null);
    // int32 7, the string "k" (zig-zag length 1 = 2, then its byte), a null (zig-zag -1 = 1).
    expect([...e.buffer]).toEqual([0, 0, 0, 7, 2, 107, 1]);
    expect(e.size()).toBe(7);
  });

  it('encodes a record batch with a correct CRC-32C that its decoder reads back', async () => {
    for (let i = 0; i < 64; i++) Buffer.allocUnsafe(1_024).fill(0xab);
    const records = Array.from({ length: 300 }, (_, i) =>
      Record({
        offsetDelta: i,
        timestampDelta: i * 3,
        key: i % 7 === 0 ? null : `order-${i}`,
        value: JSON.stringify({ i, text: 'é'.repeat(i % 40), pad: 'x'.repeat((i * 37) % 900) }),
        headers: { 'x-event-type': 'prediction', 'x-schema-version': String(1 + (i % 3)) },
      }),
    );
    const batch = await RecordBatch({
      records,
      firstTimestamp: 1_700_000_000_000,
      maxTimestamp: 1_700_000_000_900,
    });
    // firstOffset (8), length (4), partitionLeaderEpoch (4), magic (1), CRC (4), then what the CRC covers.
    const bytes = batch.buffer;
    expect(bytes.readInt32BE(8)).toBe(bytes.length - 12);
    expect(bytes.readUInt32BE(17)).toBe(crc32c(bytes.subarray(21)));
    const decoded = await decodeBatch(new DecoderClass(bytes));
    expect(decoded.records).toHaveLength(300);
    decoded.records.forEach((r, i) => {
      expect(r.key === null ? null : r.key.toString()).toBe(i % 7 === 0 ? null : `order-${i}`);
      expect(JSON.parse(r.value.toString())).toEqual({
        i,
        text: 'é'.repeat(i % 40),
        pad: 'x'.repeat((i * 37) % 900),
      });
      expect(r.headers['x-schema-version']!.toString()).toBe(String(1 + (i % 3)));
    });
  });
});
