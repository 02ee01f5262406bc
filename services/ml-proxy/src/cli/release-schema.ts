/**
 * Prints release.json's JSON Schema (services/ml-proxy/release.schema.json is this output; a test keeps
 * the two equal): node services/ml-proxy/src/cli/release-schema.ts > services/ml-proxy/release.schema.json
 */
import { releaseJsonSchema } from '../domain/release.ts';

process.stdout.write(`${JSON.stringify(releaseJsonSchema(), null, 2)}\n`);
