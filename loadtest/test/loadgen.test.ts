import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { LOADGEN_DIR } from '../lib/native.ts';

const run = promisify(execFile);
const goEnv = { ...process.env, GOTOOLCHAIN: 'local', CGO_ENABLED: '0' };

// The go engine's own checks, as part of the one test command: its unit tests (the HTTP/1.1 response
// parser and request serialiser), go vet, and gofmt. A cold Go build cache compiles the standard library
// first, hence the long bound.
describe('loadtest/loadgen (go engine)', { timeout: 240_000 }, () => {
  it('passes go vet and its unit tests', async () => {
    await run('go', ['vet', './...'], { cwd: LOADGEN_DIR, env: goEnv });
    const { stdout } = await run('go', ['test', '-count=1', './...'], { cwd: LOADGEN_DIR, env: goEnv });
    expect(stdout).toMatch(/^ok\s/m);
  });

  it('is gofmt-formatted', async () => {
    const { stdout } = await run('gofmt', ['-l', '.'], { cwd: LOADGEN_DIR, env: goEnv });
    expect(stdout.trim()).toBe('');
  });
});
