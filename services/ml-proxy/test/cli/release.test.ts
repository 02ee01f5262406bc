import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '@eta/testing/ports';
import { afterEach, describe, expect, it } from 'vitest';
import { ReleaseChangedError, writeReleaseAtomically } from '../../src/adapters/release-file.ts';
import { EXIT, main } from '../../src/cli/release.ts';
import { parseRelease } from '../../src/domain/release.ts';
import { wrongGolden } from '../helpers.ts';
import { candidateRelease, releaseRepository } from '../release-helpers.ts';

/**
 * `pnpm model` in process (its refusals and exit codes); the promotion rule against a real proxy process
 * and real training rows is in test/integration/release.integration.test.ts.
 */
let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups) await c();
  cleanups = [];
});

async function repository(versions?: string[]) {
  const repo = await releaseRepository(versions);
  cleanups.push(repo.cleanup);
  return repo;
}

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => (out += s), err: (s) => (err += s) }, {});
  return { code, out, err };
}

const who = ['--by', 'alice', '--reason', 'because'];
const readRelease = async (root: string) =>
  parseRelease(await readFile(join(root, 'eta-precise', 'release.json'), 'utf8'));

describe('pnpm model: usage', () => {
  it.each([
    [[], /expected a command/],
    [['deploy', '--model', 'eta-precise'], /expected a command/],
    [['status'], /--model is required/],
    [['promote', '--model', 'eta-precise'], /promote needs --by/],
    [['rollback', '--model', 'eta-precise', '--by', 'a'], /rollback needs --reason/],
    [['rollback', '--model', 'eta-precise', '--by', ' ', '--reason', 'r'], /--by must not be empty/],
    [['rollback', '--model', 'eta-precise', ...who, '--to', 'v2'], /--to v2: expected a version number/],
    [['rollback', '--model', 'eta-precise', ...who, '--force'], /--force is for promote only/],
    [
      ['promote', '--model', 'eta-precise', ...who, '--proxy', 'not a url'],
      /--proxy not a url: expected a URL/,
    ],
    [['promote', '--model', 'eta-precise', ...who, '--rows', 'mysql://x'], /--rows: expected a postgres/],
    [['promote', '--model', 'eta-precise', ...who, '--rows-table', 'x; DROP TABLE y'], /--rows-table/],
    [['promote', '--model', 'eta-precise', ...who, '--min-comparisons', 'many'], /expected an integer >= 0/],
    [['promote', '--model', 'eta-precise', ...who, '--wait'], /--wait needs at least one --proxy/],
    [['status', '--model', 'eta-precise', '--colour'], /Unknown option '--colour'/],
  ])('%j exits 2 with the reason and the usage', async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(EXIT.USAGE);
    expect(r.err).toMatch(message);
    expect(r.err).toMatch(/usage: pnpm model/);
    expect(r.out).toBe('');
  });

  it('--help prints the usage and exits 0', async () => {
    const r = await run('--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/usage: pnpm model/);
  });
});

describe('pnpm model: state refusals (exit 4, nothing written)', { timeout: 60_000 }, () => {
  it('promote without release.json, without a candidate, or with another candidate than --to', async () => {
    const repo = await repository();
    const promote = (...extra: string[]) =>
      run('promote', '--model', 'eta-precise', '--repository', repo.root, ...who, ...extra);
    expect(await promote()).toMatchObject({
      code: EXIT.STATE,
      err: expect.stringMatching(/has no release.json/),
    });
    await repo.writeRelease({ serving: '1', history: [] });
    expect(await promote()).toMatchObject({
      code: EXIT.STATE,
      err: expect.stringMatching(/names no candidate/),
    });
    await repo.writeRelease(candidateRelease());
    expect(await promote('--to', '3')).toMatchObject({
      code: EXIT.STATE,
      err: expect.stringMatching(/the candidate of eta-precise is 2, not 3/),
    });
  });

  it('promote without a proxy or rows is refused by the rule (exit 3) unless forced', async () => {
    const repo = await repository();
    await repo.writeRelease(candidateRelease());
    const refused = await run('promote', '--model', 'eta-precise', '--repository', repo.root, ...who);
    expect(refused.code).toBe(EXIT.RULE);
    expect(refused.err).toMatch(/no proxy was asked/);
    expect(refused.err).toMatch(/no delivered orders were read/);
    expect((await readRelease(repo.root)).serving).toBe('1');
  });

  it('a candidate that fails its golden check is never promoted, not even forced', async () => {
    const repo = await repository();
    await wrongGolden(join(repo.root, 'eta-precise', '2'));
    await repo.writeRelease(candidateRelease());
    const r = await run('promote', '--model', 'eta-precise', '--repository', repo.root, ...who, '--force');
    expect(r.code).toBe(EXIT.STATE);
    expect(r.err).toMatch(/candidate 2 of eta-precise fails its checks: golden check failed/);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect((await readRelease(repo.root)).serving).toBe('1');
  });

  it('rollback: nothing in the history, already serving, the candidate, a missing version, a malformed file', async () => {
    const repo = await repository();
    const rollback = (...extra: string[]) =>
      run('rollback', '--model', 'eta-precise', '--repository', repo.root, ...who, ...extra);
    expect(await rollback()).toMatchObject({
      code: EXIT.STATE,
      err: expect.stringMatching(/does not say what served before 2; name the version with --to/),
    });
    expect(await rollback('--to', '2')).toMatchObject({
      code: EXIT.STATE,
      err: expect.stringMatching(/2 is already serving/),
    });
    expect(await rollback('--to', '7')).toMatchObject({
      code: EXIT.STATE,
      err: expect.stringMatching(/version 7 of eta-precise is not in the repository \(it has 1, 2\)/),
    });
    await repo.writeRelease({ serving: '1', candidate: '2', history: [] });
    expect(await rollback('--to', '2')).toMatchObject({
      code: EXIT.STATE,
      err: expect.stringMatching(/2 is the candidate: promote it instead/),
    });
    await repo.writeRelease('{"serving": 1}');
    expect(await rollback('--to', '2')).toMatchObject({
      code: EXIT.STATE,
      err: expect.stringMatching(/release.json is malformed .*serving/),
    });
  });
});

describe('pnpm model: rollback and status', { timeout: 60_000 }, () => {
  it('rollback --to without a release.json creates one that pins the version, recorded, and one JSON line', async () => {
    const repo = await repository();
    const r = await run('rollback', '--model', 'eta-precise', '--repository', repo.root, ...who, '--to', '1');
    expect(r.code, r.err).toBe(0);
    const release = await readRelease(repo.root);
    expect(release).toMatchObject({
      serving: '1',
      history: [{ action: 'rollback', version: '1', from: '2', by: 'alice', reason: 'because' }],
    });
    expect(r.out.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(r.out)).toMatchObject({
      msg: 'model release changed',
      model: 'eta-precise',
      action: 'rollback',
      version: '1',
      from: '2',
    });
    // No temp file left beside it.
    expect((await readdir(join(repo.root, 'eta-precise'))).sort()).toEqual(['1', '2', 'release.json']);
  });

  it('status prints serving, candidate and the history; --json the same as JSON', async () => {
    const repo = await repository();
    await repo.writeRelease(candidateRelease(new Date('2026-12-06T08:00:00Z')));
    const r = await run('status', '--model', 'eta-precise', '--repository', repo.root);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/serving\s+1\n/);
    expect(r.out).toMatch(/candidate\s+2\n/);
    expect(r.out).toMatch(
      /2026-12-06T08:00:00.000Z {2}publish {2}2 \(from 1\) {2}by retrain-job: test candidate/,
    );
    const json = JSON.parse(
      (await run('status', '--model', 'eta-precise', '--repository', repo.root, '--json')).out,
    );
    expect(json).toMatchObject({ serving: '1', candidate: '2', versions: ['1', '2'] });
  });

  it('an unreachable proxy is exit 5, for status and for promote (nothing written)', async () => {
    const repo = await repository();
    await repo.writeRelease(candidateRelease());
    const dead = `http://127.0.0.1:${await freePort()}`;
    const status = await run('status', '--model', 'eta-precise', '--repository', repo.root, '--proxy', dead);
    expect(status.code).toBe(EXIT.UNREACHABLE);
    expect(status.out).toMatch(/unreachable/);
    const promote = await run(
      'promote',
      '--model',
      'eta-precise',
      '--repository',
      repo.root,
      ...who,
      '--proxy',
      dead,
    );
    expect(promote.code).toBe(EXIT.UNREACHABLE);
    expect(promote.err).toMatch(/\/metrics could not be read/);
    expect((await readRelease(repo.root)).candidate).toBe('2');
  });
});

describe('release.json writes', () => {
  it('refuses to replace a file that changed since it was read, and leaves no temp file', async () => {
    const repo = await repository(['1']);
    await repo.writeRelease({ serving: '1', history: [] });
    const read = await readFile(join(repo.root, 'eta-precise', 'release.json'), 'utf8');
    await repo.writeRelease(candidateRelease()); // another writer, meanwhile
    await expect(
      writeReleaseAtomically(repo.root, 'eta-precise', { serving: '1', history: [] }, read),
    ).rejects.toBeInstanceOf(ReleaseChangedError);
    expect((await readRelease(repo.root)).candidate).toBe('2');
    expect((await readdir(join(repo.root, 'eta-precise'))).sort()).toEqual(['1', 'release.json']);
  });
});
