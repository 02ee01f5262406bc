import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The README hands these commands to newcomers: a wrong option gets a usage line and exit 2, not a stack.
const cli = (name: string) => fileURLToPath(new URL(`../../src/cli/${name}.ts`, import.meta.url));
const run = (name: string, ...args: string[]) =>
  spawnSync(process.execPath, [cli(name), ...args], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });

describe.each([
  ['dev-token', 'usage: pnpm dev:token'],
  ['seed', 'usage: pnpm --dir services/vendor-bff seed'],
])('%s', (name, usage) => {
  it('--help prints the usage and exits 0', () => {
    const r = run(name, '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(usage);
  });

  it('an unknown option says which, prints the usage and exits 2, with no stack trace', () => {
    const r = run(name, '--no-such-option');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("Unknown option '--no-such-option'");
    expect(r.stderr).toContain(usage);
    expect(r.stderr).not.toContain('    at ');
  });
});
