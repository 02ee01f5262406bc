/**
 * How values become Redis strings. JSON by default; pass a codec whose decode validates (e.g. a zod
 * `parse`) when values outlive deploys, so an old shape in Redis is a miss rather than a bad value.
 */
export interface Codec<V> {
  encode(value: V): string;
  decode(text: string): V;
}

export function jsonCodec<V>(): Codec<V> {
  return {
    encode: (value) => JSON.stringify(value),
    // The cache trusts its own writes; a codec that must distrust them validates here.
    decode: (text) => JSON.parse(text) as V,
  };
}
