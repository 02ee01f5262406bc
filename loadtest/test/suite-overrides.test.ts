import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { suiteOverrides } from '../lib/suite.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('suiteOverrides', () => {
  it('lists a key of .env.example and a key only a config schema reads, and nothing else', () => {
    const env = {
      LOG_LEVEL: 'warn', // in .env.example
      GEO_COALESCE_MAX_PAIRS: '32', // vendor-bff's schema (.env.example names it second on a line)
      CACHE_L1_MAX_ENTRIES: '10', // geo's schema (.env.example names it second on a line)
      MODEL_DEADLINE_MS: '40', // ml-proxy's schema and .env.example
      HOME: '/root',
      PATH: '/usr/bin',
    };
    expect(suiteOverrides(root, env)).toEqual({
      CACHE_L1_MAX_ENTRIES: '10',
      GEO_COALESCE_MAX_PAIRS: '32',
      LOG_LEVEL: 'warn',
      MODEL_DEADLINE_MS: '40',
    });
  });

  it('is empty when no service key is set', () => {
    expect(suiteOverrides(root, { HOME: '/root' })).toEqual({});
  });
});
