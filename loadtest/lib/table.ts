export type Cell = string | number | null | undefined;

/**
 * Formats rows as an aligned text table. Numeric columns are right-aligned; columns
 * default to the keys of the first row, in order.
 */
export function formatTable(
  rows: readonly Readonly<Record<string, Cell>>[],
  columns?: readonly string[],
): string {
  const cols = columns ?? Object.keys(rows[0] ?? {});
  if (cols.length === 0) return '';
  const text = (c: Cell) => (c === null || c === undefined ? '-' : String(c));
  const widths = cols.map((col) => Math.max(col.length, ...rows.map((r) => text(r[col]).length)));
  // A column with any number in it is numeric: right-aligned, header included, so digits line up.
  const numeric = cols.map((col) => rows.some((r) => typeof r[col] === 'number'));
  const line = (cells: readonly Cell[]) =>
    cells
      .map((c, i) => (numeric[i] ? text(c).padStart(widths[i]!) : text(c).padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const header = line(cols);
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const body = rows.map((r) => line(cols.map((c) => r[c])));
  return [header, rule, ...body].join('\n');
}

export function printTable(
  rows: readonly Readonly<Record<string, Cell>>[],
  columns?: readonly string[],
  out: (line: string) => void = console.log,
): void {
  out(formatTable(rows, columns));
}
