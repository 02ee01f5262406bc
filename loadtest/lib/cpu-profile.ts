/**
 * Reads V8 CPU profiles (`node --cpu-prof` writes one `.cpuprofile` per process at exit) and says where
 * the time went: self time per function (name and file:line), heaviest first, idle time left out.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface Frame {
  /** `name (file:line)`; V8's own entries as they are: (garbage collector), (program). */
  readonly frame: string;
  readonly selfMs: number;
  /** Share of the profile's busy (non-idle) time, 0..1. */
  readonly share: number;
}

export interface ProfileSummary {
  readonly busyMs: number;
  readonly top: readonly Frame[];
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  if (url === '') return functionName === '' ? '(anonymous)' : functionName;
  const file = url.includes('node_modules/')
    ? url.slice(url.lastIndexOf('node_modules/') + 13)
    : basename(url);
  return `${functionName === '' ? '(anonymous)' : functionName} (${file}:${lineNumber + 1})`;
}

export function summarize(profile: CpuProfile, top = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let busy = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!);
    // A sample's time is the delta to the next one (V8's own convention in DevTools).
    const us = profile.timeDeltas[i + 1] ?? 0;
    if (node === undefined || node.callFrame.functionName === '(idle)') continue;
    const key = label(node);
    self.set(key, (self.get(key) ?? 0) + us);
    busy += us;
  }
  const frames = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([frame, us]) => ({ frame, selfMs: Math.round(us / 100) / 10, share: busy > 0 ? us / busy : 0 }));
  return { busyMs: Math.round(busy / 1000), top: frames };
}

export async function summarizeFile(path: string, top = 15): Promise<ProfileSummary> {
  return summarize(JSON.parse(await readFile(path, 'utf8')) as CpuProfile, top);
}
