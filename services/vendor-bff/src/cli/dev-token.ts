/**
 * Prints a bearer token signed with the COMMITTED development key (services/vendor-bff/dev), for local runs
 * only: vendor-bff accepts it only with AUTH_DEV_KEYS=true.
 *
 *   pnpm dev:token --store 1,2            a store owner of stores 1 and 2
 *   pnpm dev:token --operator             support staff: every store
 *   pnpm dev:token --service checkout     a service calling the estimate API
 *   options: --sub <subject>  --ttl <minutes> (default 480)
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { importPKCS8, SignJWT } from 'jose';
import { DEV_AUDIENCE, DEV_ISSUER, DEV_KEY_ID, DEV_PRIVATE_KEY_FILE } from '../auth/jwt.ts';

const USAGE =
  'usage: pnpm dev:token (--store <id>[,<id>...] | --operator | --service <name>) [--sub <subject>] [--ttl <minutes>]';

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function parseOptions() {
  try {
    return parseArgs({
      // pnpm forwards a literal '--' in `pnpm dev:token -- --store 1`.
      args: process.argv.slice(2).filter((a) => a !== '--'),
      options: {
        store: { type: 'string' },
        operator: { type: 'boolean', default: false },
        service: { type: 'string' },
        sub: { type: 'string' },
        ttl: { type: 'string', default: '480' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    });
  } catch (err) {
    // An unknown option or a missing value: parseArgs's own message, never a stack trace.
    return fail((err as Error).message);
  }
}

const { values } = parseOptions();
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const chosen = [values.store !== undefined, values.operator, values.service !== undefined].filter(Boolean);
if (chosen.length !== 1) fail('choose exactly one of --store, --operator, --service');
const ttl = Number(values.ttl);
if (!Number.isInteger(ttl) || ttl < 1 || ttl > 7 * 24 * 60) fail('--ttl: whole minutes, 1 to 10080');

let claims: Record<string, unknown>;
let subject: string;
if (values.store !== undefined) {
  const ids = values.store.split(',').map((s) => s.trim());
  if (ids.some((s) => !/^[1-9]\d{0,15}$/.test(s)))
    fail('--store: positive integer store ids, comma-separated');
  const stores = [...new Set(ids.map(Number))].sort((a, b) => a - b);
  claims = { role: 'owner', stores };
  subject = values.sub ?? `dev-owner-${stores.join('-')}`;
} else if (values.operator) {
  claims = { role: 'operator' };
  subject = values.sub ?? 'dev-operator';
} else {
  const name = values.service ?? '';
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(name)) fail('--service: a lower-case service name');
  claims = { role: 'service' };
  subject = values.sub ?? name;
}

const key = await importPKCS8(readFileSync(DEV_PRIVATE_KEY_FILE, 'utf8'), 'EdDSA');
const token = await new SignJWT(claims)
  .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: DEV_KEY_ID })
  .setIssuer(DEV_ISSUER)
  .setAudience(DEV_AUDIENCE)
  .setSubject(subject)
  .setIssuedAt()
  .setExpirationTime(`${ttl}m`)
  .sign(key);

process.stdout.write(`${token}\n`);
process.stderr.write(
  `dev-only token for ${subject} (${JSON.stringify(claims)}), valid ${ttl} min; ` +
    'accepted only by a vendor-bff started with AUTH_DEV_KEYS=true\n',
);
