/**
 * A unified diff of two texts by lines (`diff -u` style, 3 lines of context), from a longest common
 * subsequence; values files are a few hundred lines, so the quadratic table is small.
 */
export function unifiedDiff(a: string, b: string, nameA: string, nameB: string, context = 3): string {
  if (a === b) return '';
  // Lines end with a newline; a missing last newline is not marked (values files always have one).
  const lines = (t: string) => (t === '' ? [] : (t.endsWith('\n') ? t.slice(0, -1) : t).split('\n'));
  const x = lines(a);
  const y = lines(b);
  const n = x.length;
  const m = y.length;
  // lcs[i][j]: longest common subsequence of x[i..] and y[j..].
  const lcs = new Uint32Array((n + 1) * (m + 1));
  const at = (i: number, j: number) => i * (m + 1) + j;
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[at(i, j)] =
        x[i] === y[j] ? lcs[at(i + 1, j + 1)]! + 1 : Math.max(lcs[at(i + 1, j)]!, lcs[at(i, j + 1)]!);
    }
  }
  type Op = { kind: ' ' | '-' | '+'; text: string; ai: number; bi: number };
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      ops.push({ kind: ' ', text: x[i]!, ai: i++, bi: j++ });
    } else if (j < m && (i >= n || lcs[at(i, j + 1)]! >= lcs[at(i + 1, j)]!)) {
      ops.push({ kind: '+', text: y[j]!, ai: i, bi: j++ });
    } else {
      ops.push({ kind: '-', text: x[i]!, ai: i++, bi: j });
    }
  }
  // Deletions before additions within a change, as diff -u prints them.
  for (let k = 1; k < ops.length; k++) {
    let p = k;
    while (p > 0 && ops[p]!.kind === '-' && ops[p - 1]!.kind === '+') {
      [ops[p - 1], ops[p]] = [ops[p]!, ops[p - 1]!];
      p--;
    }
  }
  const out = [`--- ${nameA}`, `+++ ${nameB}`];
  let k = 0;
  while (k < ops.length) {
    if (ops[k]!.kind === ' ') {
      k++;
      continue;
    }
    // A hunk: from `context` lines before this change to `context` after the last change that is at most
    // 2 x context lines of sameness away.
    const start = Math.max(0, k - context);
    let end = k;
    let same = 0;
    for (let q = k; q < ops.length; q++) {
      if (ops[q]!.kind === ' ') {
        same++;
        if (same > 2 * context) break;
      } else {
        same = 0;
        end = q;
      }
    }
    const stop = Math.min(ops.length, end + context + 1);
    const hunk = ops.slice(start, stop);
    const aLen = hunk.filter((o) => o.kind !== '+').length;
    const bLen = hunk.filter((o) => o.kind !== '-').length;
    const aStart = hunk[0]!.ai + (aLen > 0 ? 1 : 0);
    const bStart = hunk[0]!.bi + (bLen > 0 ? 1 : 0);
    out.push(`@@ -${aStart},${aLen} +${bStart},${bLen} @@`);
    for (const o of hunk) out.push(`${o.kind}${o.text}`);
    k = stop;
  }
  return `${out.join('\n')}\n`;
}
