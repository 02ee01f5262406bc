import { z } from 'zod';
import { type CanarySpec, type ShadowSpec } from './routing.ts';

/**
 * `<repository>/<model>/release.json`: which version of a model serves and which is the candidate, with
 * the history of how it came to be (the retrain job's publishes, the promotions and rollbacks of
 * `pnpm model`). The proxy re-reads it with every repository scan, so a promotion or a rollback is a file
 * change it picks up hot; a file it refuses (this schema) leaves the last good one in force.
 *
 * Strict on purpose: a key this schema does not know is a writer that means something the proxy would
 * ignore, so the whole file is refused (logged and counted) rather than half-understood.
 * `release.schema.json` next to the package is this schema as JSON Schema, for writers in other languages.
 */
export const RELEASE_FILE = 'release.json';

/** Version folder names, as the repository lists them ("2", never "v2" or "02"). */
export const ReleaseVersion = z
  .string()
  .regex(/^[1-9]\d{0,8}$/, { message: 'expected a version number such as "2"' });

const Timestamp = z.iso.datetime({
  offset: true,
  message: 'expected an ISO 8601 time such as 2026-12-06T08:00:00Z',
});

export const ReleaseAction = z.enum(['publish', 'promote', 'rollback']);
export type ReleaseAction = z.output<typeof ReleaseAction>;

const Accuracy = z.strictObject({
  version: ReleaseVersion,
  /** Mean absolute error of p50 against the actual minutes. */
  mae: z.number().nonnegative(),
  /** Share of actual minutes inside [p10, p90]. */
  coverage: z.number().min(0).max(1),
});

/** The promotion rule's figures as `pnpm model promote` measured them (also when forced). */
export const PromotionFigures = z.strictObject({
  /** Proxies whose /metrics were read. */
  proxies: z.array(z.string()).optional(),
  minComparisons: z.number().int().nonnegative().optional(),
  comparisons: z.number().int().nonnegative().optional(),
  shadowErrors: z.number().int().nonnegative().optional(),
  /** Delivered after this time: orders the candidate did not train on. */
  since: Timestamp.optional(),
  minRows: z.number().int().nonnegative().optional(),
  rows: z.number().int().nonnegative().optional(),
  serving: Accuracy.optional(),
  candidate: Accuracy.optional(),
  /** Why the rule refused, when `--force` overrode it. */
  refusals: z.array(z.string()).optional(),
});
export type PromotionFigures = z.output<typeof PromotionFigures>;

export const ReleaseHistoryEntry = z.strictObject({
  at: Timestamp,
  /** A person or a job (`retrain-job`). */
  by: z.string().min(1).max(200),
  action: ReleaseAction,
  /** publish: the candidate published; promote and rollback: the version serving afterwards. */
  version: ReleaseVersion,
  /** The version serving before. */
  from: ReleaseVersion.optional(),
  reason: z.string().min(1).max(4000),
  /** The retrain job's report, relative to the repository root or a URL. */
  report: z.string().min(1).max(2000).optional(),
  /** promote only: true when `--force` skipped the rule. */
  forced: z.boolean().optional(),
  /** promote only: the rule's figures. */
  rule: PromotionFigures.optional(),
});
export type ReleaseHistoryEntry = z.output<typeof ReleaseHistoryEntry>;

export const ReleaseFile = z
  .strictObject({
    /** What unpinned calls get; absent: the newest version that is not the candidate. */
    serving: ReleaseVersion.optional(),
    /** Loaded and shadowed, never served unpinned; absent when there is none. */
    candidate: ReleaseVersion.optional(),
    /** Oldest first; appended to, never rewritten. */
    history: z.array(ReleaseHistoryEntry).default([]),
  })
  .refine((r) => r.candidate === undefined || r.candidate !== r.serving, {
    message: 'candidate and serving name the same version',
    path: ['candidate'],
  });
export type ReleaseFile = z.output<typeof ReleaseFile>;

/** Largest release.json read: years of daily history entries fit many times over. */
export const RELEASE_MAX_BYTES = 4 * 1024 * 1024;

/** Parses release.json's text; throws an Error whose message lists every problem at once. */
export function parseRelease(text: string): ReleaseFile {
  if (text.length > RELEASE_MAX_BYTES) throw new Error(`larger than ${RELEASE_MAX_BYTES} bytes`);
  let raw: unknown;
  try {
    raw = JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`not JSON: ${(err as Error).message}`);
  }
  const parsed = ReleaseFile.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      parsed.error.issues
        .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(file)'}: ${i.message}`)
        .join('; '),
    );
  }
  return parsed.data;
}

/** The file as written: two-space JSON and a final newline, so diffs of it stay readable. */
export function formatRelease(release: ReleaseFile): string {
  return `${JSON.stringify(ReleaseFile.parse(release), null, 2)}\n`;
}

// ---------------------------------------------------------------------------------------------------
// Routing: MODEL_SETTINGS and release.json together.

/** How the release's candidate is mirrored when MODEL_SETTINGS names no shadow of its own. */
export interface CandidateShadow {
  readonly percent: number;
  readonly tolerance: number;
}

/**
 * The default share of requests mirrored to a release's candidate. A shadow call runs the candidate on the
 * same pod after the answer: one eta-precise v2 row costs ~23 µs (v1 ~52 µs) of the ~160-190 µs of CPU the
 * proxy spends per precise request (docs/benchmarks.md), so mirroring every request would add 12-30 % CPU
 * at peak, and 10 % adds 1-3 %. At 10 % the promotion rule's 1,000 comparisons take 10,000 precise
 * requests: minutes at a Seoul meal peak.
 */
export const DEFAULT_CANDIDATE_SHADOW: CandidateShadow = { percent: 10, tolerance: 0.5 };

/** The parts of a model's MODEL_SETTINGS that decide which versions serve. */
export interface RoutingSettings {
  readonly defaultVersion?: string | undefined;
  readonly canary?: CanarySpec | undefined;
  readonly shadow?: ShadowSpec | undefined;
  readonly keepLoaded?: readonly string[] | undefined;
  readonly candidateShadow?: CandidateShadow | undefined;
}

/** Where the version unpinned calls get was decided. */
export type ServingSource = 'settings' | 'release' | 'newest';

/** What one model serves, resolved from its settings and its last good release.json. */
export interface Routing {
  /** The version unpinned, non-canary calls get when it is loaded; otherwise the newest non-candidate. */
  readonly preferred: string | undefined;
  readonly preferredFrom: Exclude<ServingSource, 'newest'> | undefined;
  /** Never picked as "the newest": canary, shadow and the release's candidate. */
  readonly candidates: ReadonlySet<string>;
  /** Loaded whenever present (MODEL_LOAD_VERSIONS=served), beside the preferred one. */
  readonly named: ReadonlySet<string>;
  readonly canary: CanarySpec | undefined;
  /** The version mirrored, from MODEL_SETTINGS' shadow or else the release's candidate. */
  readonly shadow: ShadowSpec | undefined;
  /** release.json's candidate, whether or not it is the one mirrored. */
  readonly candidate: string | undefined;
  /** release.json's serving, whether or not it is the one served. */
  readonly releaseServing: string | undefined;
}

/**
 * Precedence: an operator's explicit MODEL_SETTINGS wins over release.json, field by field.
 * `defaultVersion` beats release `serving`; a `shadow` setting beats mirroring the release's candidate
 * (the candidate is still loaded and still never served unpinned). MODEL_SETTINGS is the pod's deployed
 * configuration, reviewed in git and documented as the emergency pin (docs/runbooks/deploy.md, "Roll back
 * a bad model"): it must keep working whatever a job writes into the repository. The proxy says when it
 * overrides the release (log line, `source` label of ml_proxy_release_info, metadata `servingFrom`).
 */
export function resolveRouting(settings: RoutingSettings, release: ReleaseFile | undefined): Routing {
  const candidates = new Set<string>();
  if (settings.canary) candidates.add(settings.canary.version);
  if (settings.shadow) candidates.add(settings.shadow.version);
  const candidate = release?.candidate;
  if (candidate !== undefined) candidates.add(candidate);

  let preferred: string | undefined;
  let preferredFrom: Routing['preferredFrom'];
  if (settings.defaultVersion !== undefined) {
    preferred = settings.defaultVersion;
    preferredFrom = 'settings';
  } else if (release?.serving !== undefined) {
    preferred = release.serving;
    preferredFrom = 'release';
  }

  const mirror = settings.candidateShadow ?? DEFAULT_CANDIDATE_SHADOW;
  const shadow: ShadowSpec | undefined =
    settings.shadow ??
    (candidate === undefined
      ? undefined
      : { version: candidate, percent: mirror.percent, tolerance: mirror.tolerance });

  const named = new Set<string>([...candidates, ...(settings.keepLoaded ?? [])]);
  return {
    preferred,
    preferredFrom,
    candidates,
    named,
    canary: settings.canary,
    shadow,
    candidate,
    releaseServing: release?.serving,
  };
}

// ---------------------------------------------------------------------------------------------------
// Transitions (what `pnpm model` writes).

export interface ChangeBy {
  readonly at: string;
  readonly by: string;
  readonly reason: string;
}

/** serving = candidate, candidate removed, one history entry. `from` is what served before. */
export function promoted(
  release: ReleaseFile,
  from: string | undefined,
  change: ChangeBy & { forced: boolean; rule: PromotionFigures },
): ReleaseFile {
  const candidate = release.candidate;
  if (candidate === undefined) throw new Error('release.json names no candidate');
  const entry: ReleaseHistoryEntry = {
    at: change.at,
    by: change.by,
    action: 'promote',
    version: candidate,
    ...(from === undefined ? {} : { from }),
    reason: change.reason,
    ...(change.forced ? { forced: true } : {}),
    rule: change.rule,
  };
  return { serving: candidate, history: [...release.history, entry] };
}

/** serving = `to`; the candidate, if any, stays the candidate (unless it is `to`, which callers refuse). */
export function rolledBack(
  release: ReleaseFile,
  from: string | undefined,
  to: string,
  change: ChangeBy,
): ReleaseFile {
  const entry: ReleaseHistoryEntry = {
    at: change.at,
    by: change.by,
    action: 'rollback',
    version: to,
    ...(from === undefined ? {} : { from }),
    reason: change.reason,
  };
  return {
    serving: to,
    ...(release.candidate === undefined ? {} : { candidate: release.candidate }),
    history: [...release.history, entry],
  };
}

/**
 * The version that served before `serving` was promoted: the `from` of the newest promotion to `serving`,
 * else of the publish of `serving` (it was published as the candidate of the version then serving).
 * Rollbacks are skipped, so a second rollback walks further back instead of undoing the first. undefined
 * when the history does not say (then `--to` names the version).
 */
export function previousServing(release: ReleaseFile, serving: string): string | undefined {
  for (const action of ['promote', 'publish'] as const) {
    for (let i = release.history.length - 1; i >= 0; i--) {
      const e = release.history[i]!;
      if (e.action === action && e.version === serving) return e.from;
    }
  }
  return undefined;
}

/** When `version` was published (the newest publish entry), undefined when the history has none. */
export function publishedAt(release: ReleaseFile, version: string): string | undefined {
  for (let i = release.history.length - 1; i >= 0; i--) {
    const e = release.history[i]!;
    if (e.action === 'publish' && e.version === version) return e.at;
  }
  return undefined;
}

/** release.json's schema as JSON Schema (what a writer may put in the file), for writers in other languages. */
export function releaseJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(ReleaseFile, { io: 'input', target: 'draft-2020-12' }),
    title: 'release.json of a model in the ML proxy model repository',
    description:
      'Generated from services/ml-proxy/src/domain/release.ts (node services/ml-proxy/src/cli/release-schema.ts). ' +
      'Also refused: a candidate equal to serving.',
  };
}
