/**
 * The suite chart's scaling targets (charts/suite/templates/_targets.tpl), the ids every input of the
 * plan and the simulator uses: history rows, capacity entries, schedules' minReplicas keys.
 */
export const TARGETS = [
  'vendor-bff-precise',
  'vendor-bff-rough',
  'vendor-bff-admin',
  'geo',
  'ml-proxy',
] as const;
export type TargetId = (typeof TARGETS)[number];

/** Bad input (a file, a flag, a values file the plan cannot act on); the CLIs print it and exit 2. */
export class InputError extends Error {
  override name = 'InputError';
}

export function isTarget(s: string): s is TargetId {
  return (TARGETS as readonly string[]).includes(s);
}

/**
 * A role as it appears in a history: a target id, or a BFF role alone (`precise`, `rough`, `admin`, the
 * value of the BFF's `role` metric label). Anything else is undefined, and the caller says where.
 */
export function targetOf(label: string): TargetId | undefined {
  const s = label.trim();
  if (isTarget(s)) return s;
  const bff = `vendor-bff-${s}`;
  return isTarget(bff) ? bff : undefined;
}
