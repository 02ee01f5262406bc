import { describe, expect, it } from 'vitest';
import { unifiedDiff } from '../../src/learn/diff.ts';

const lines = (...l: string[]) => `${l.join('\n')}\n`;

/** Applies a unified diff to `a` (hunks in order, context checked): what `patch` would do. */
function apply(a: string, diff: string): string {
  const src = a === '' ? [] : a.slice(0, -1).split('\n');
  const out: string[] = [];
  let at = 0;
  const body = diff.split('\n').slice(2, -1);
  for (let i = 0; i < body.length; i++) {
    const m = /^@@ -(\d+),(\d+) \+\d+,\d+ @@$/.exec(body[i]!);
    if (!m) throw new Error(`not a hunk header: ${body[i]}`);
    const start = Number(m[2]) === 0 ? Number(m[1]) : Number(m[1]) - 1;
    while (at < start) out.push(src[at++]!);
    for (i++; i < body.length && !body[i]!.startsWith('@@'); i++) {
      const [op, text] = [body[i]![0], body[i]!.slice(1)];
      if (op === ' ' || op === '-') {
        if (src[at] !== text) throw new Error(`context mismatch at line ${at + 1}`);
        at++;
      }
      if (op === ' ' || op === '+') out.push(text);
    }
    i--;
  }
  while (at < src.length) out.push(src[at++]!);
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

describe('unifiedDiff', () => {
  it('prints what diff -u prints: two hunks with three lines of context', () => {
    const a = lines('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm');
    const b = lines('a', 'b', 'X', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'Y', 'Z', 'm');
    expect(unifiedDiff(a, b, 'old', 'new')).toBe(
      lines(
        '--- old',
        '+++ new',
        '@@ -1,6 +1,6 @@',
        ' a',
        ' b',
        '-c',
        '+X',
        ' d',
        ' e',
        ' f',
        '@@ -9,5 +9,6 @@',
        ' i',
        ' j',
        ' k',
        '-l',
        '+Y',
        '+Z',
        ' m',
      ),
    );
  });

  it('prints additions at both ends and a deletion, as diff -u does', () => {
    expect(unifiedDiff(lines('a', 'b'), lines('z', 'a', 'b', 'c'), 'old', 'new')).toBe(
      lines('--- old', '+++ new', '@@ -1,2 +1,4 @@', '+z', ' a', ' b', '+c'),
    );
    expect(unifiedDiff(lines('one', 'two', 'three'), lines('one', 'three'), 'old', 'new')).toBe(
      lines('--- old', '+++ new', '@@ -1,3 +1,2 @@', ' one', '-two', ' three'),
    );
  });

  it('is empty for equal texts', () => {
    expect(unifiedDiff(lines('a'), lines('a'), 'old', 'new')).toBe('');
  });

  it('turns the old text into the new one when applied, for many random edits', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 50; round++) {
      const a = Array.from({ length: Math.floor(rnd() * 40) }, () =>
        String.fromCharCode(97 + Math.floor(rnd() * 5)),
      );
      const b = a.filter(() => rnd() > 0.2).flatMap((l) => (rnd() > 0.8 ? [l, 'new'] : [l]));
      const ta = a.length ? lines(...a) : '';
      const tb = b.length ? lines(...b) : '';
      expect(apply(ta, unifiedDiff(ta, tb, 'a', 'b') || '--- a\n+++ b\n')).toBe(tb);
    }
  });
});
