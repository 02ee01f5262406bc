import { describe } from 'vitest';
import { createPglite } from '../../src/adapters/db/index.ts';
import { migrationContract } from './migration-contract.ts';
import { silentLog } from './support.ts';

describe('migrations on embedded PGlite', () => {
  migrationContract(async () => {
    const db = await createPglite(undefined, silentLog);
    return { db, close: () => db.close() };
  });
});
