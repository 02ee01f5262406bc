import { connect } from 'node:net';

/**
 * ACLs on a test broker, so a test can authorize principals as a managed cluster would (Confluent Cloud's
 * ACLs are what terraform/modules/confluent writes). kafkajs' createAcls speaks CreateAcls v0-v1 only,
 * which Kafka 4 no longer accepts (KIP-896), and the jars hold no ACL command line tool; so this sends one
 * CreateAcls v2 request itself, over a PLAINTEXT listener whose principal (ANONYMOUS) is a super user:
 * startKafkaBroker({ authorizer: true }) sets that up.
 */

export type AclResourceType = 'topic' | 'group' | 'cluster' | 'transactional-id';
export type AclPatternType = 'literal' | 'prefixed';
export type AclOperation = 'all' | 'read' | 'write' | 'create' | 'describe' | 'idempotent-write';

export interface KafkaAcl {
  readonly resourceType: AclResourceType;
  /** A topic or group name (or prefix); `kafka-cluster` for the cluster. */
  readonly resourceName: string;
  readonly patternType?: AclPatternType;
  /** `User:<name>`: a SASL user name. */
  readonly principal: string;
  readonly operation: AclOperation;
  /** Default allow. */
  readonly permission?: 'allow' | 'deny';
}

// The protocol's enum values (org.apache.kafka.common.resource.ResourceType, PatternType, acl.AclOperation,
// acl.AclPermissionType).
const RESOURCE: Record<AclResourceType, number> = { topic: 2, group: 3, cluster: 4, 'transactional-id': 5 };
const PATTERN: Record<AclPatternType, number> = { literal: 3, prefixed: 4 };
const OPERATION: Record<AclOperation, number> = {
  all: 2,
  read: 3,
  write: 4,
  create: 5,
  describe: 8,
  'idempotent-write': 12,
};
const PERMISSION = { deny: 2, allow: 3 } as const;
const CREATE_ACLS = 30;

function uvarint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}

const int8 = (n: number) => Buffer.from([n]);
const int16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const compactString = (s: string) => {
  const bytes = Buffer.from(s, 'utf8');
  return Buffer.concat([uvarint(bytes.length + 1), bytes]);
};
const NO_TAGS = uvarint(0);

/** CreateAcls v2 (the first flexible version): request header v2, then the creations. */
function createAclsRequest(correlationId: number, acls: readonly KafkaAcl[]): Buffer {
  const clientId = Buffer.from('eta-test-acls', 'utf8');
  const header = Buffer.concat([
    int16(CREATE_ACLS),
    int16(2),
    int32(correlationId),
    int16(clientId.length),
    clientId,
    NO_TAGS,
  ]);
  const creations = acls.map((a) =>
    Buffer.concat([
      int8(RESOURCE[a.resourceType]),
      compactString(a.resourceName),
      int8(PATTERN[a.patternType ?? 'literal']),
      compactString(a.principal),
      compactString('*'),
      int8(OPERATION[a.operation]),
      int8(PERMISSION[a.permission ?? 'allow']),
      NO_TAGS,
    ]),
  );
  const body = Buffer.concat([uvarint(acls.length + 1), ...creations, NO_TAGS]);
  const message = Buffer.concat([header, body]);
  return Buffer.concat([int32(message.length), message]);
}

/** Reads a response front to back: the few field types a CreateAcls v2 answer holds. */
function reader(buf: Buffer) {
  let at = 0;
  const r = {
    int16(): number {
      const v = buf.readInt16BE(at);
      at += 2;
      return v;
    },
    int32(): number {
      const v = buf.readInt32BE(at);
      at += 4;
      return v;
    },
    uvarint(): number {
      let value = 0;
      for (let shift = 0; ; shift += 7) {
        const byte = buf[at++];
        if (byte === undefined) throw new Error('CreateAcls: the answer ended inside a varint');
        value |= (byte & 0x7f) << shift;
        if ((byte & 0x80) === 0) return value;
      }
    },
    compactNullableString(): string | null {
      const n = r.uvarint();
      if (n === 0) return null;
      const s = buf.subarray(at, at + n - 1).toString('utf8');
      at += n - 1;
      return s;
    },
    /** Tagged fields: a count, then (tag, size, bytes) each; none carries anything needed here. */
    skipTags(): void {
      for (let n = r.uvarint(); n > 0; n--) {
        r.uvarint();
        at += r.uvarint();
      }
    },
  };
  return r;
}

/** Errors per creation from a CreateAcls v2 response (after the response header v1). */
function parseResponse(buf: Buffer, correlationId: number): { code: number; message: string | null }[] {
  const r = reader(buf);
  if (r.int32() !== correlationId) throw new Error('CreateAcls: answer to another request');
  r.skipTags();
  r.int32(); // throttle_time_ms
  const results: { code: number; message: string | null }[] = [];
  for (let n = r.uvarint() - 1; n > 0; n--) {
    const code = r.int16();
    const message = r.compactNullableString();
    r.skipTags();
    results.push({ code, message });
  }
  return results;
}

/**
 * Creates `acls` through `broker` (`host:port` of a listener whose principal may alter the cluster's ACLs,
 * such as startKafkaBroker's PLAINTEXT one with `authorizer: true`); rejects naming any that failed.
 */
export async function createKafkaAcls(
  broker: string,
  acls: readonly KafkaAcl[],
  timeoutMs = 15_000,
): Promise<void> {
  if (acls.length === 0) return;
  const [host, port] = [
    broker.slice(0, broker.lastIndexOf(':')),
    Number(broker.slice(broker.lastIndexOf(':') + 1)),
  ];
  const correlationId = 1;
  const answer = await new Promise<Buffer>((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`CreateAcls: no answer from ${broker} within ${timeoutMs} ms`));
    }, timeoutMs);
    let got = Buffer.alloc(0);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 4 && got.length >= 4 + got.readInt32BE(0)) {
        clearTimeout(timer);
        socket.end();
        resolve(got.subarray(4, 4 + got.readInt32BE(0)));
      }
    });
    socket.once('connect', () => socket.write(createAclsRequest(correlationId, acls)));
  });
  const failed = parseResponse(answer, correlationId)
    .map((r, i) => ({ ...r, acl: acls[i] }))
    .filter((r) => r.code !== 0);
  if (failed.length > 0) {
    throw new Error(
      `CreateAcls refused ${failed.length} of ${acls.length}: ` +
        failed.map((f) => `${JSON.stringify(f.acl)} -> error ${f.code} ${f.message ?? ''}`).join('; '),
    );
  }
}
