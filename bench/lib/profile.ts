/**
 * Summaries of the servers' V8 CPU profiles (`--cpu-prof`): the functions with the most self
 * time, so the report names the hot path without opening a profiler.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from './server.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

export interface ProfileSummary {
  file: string;
  /** Sampled time, seconds (idle excluded). */
  busySeconds: number;
  idleShare: number;
  garbageCollectionShare: number;
  /** `via`: the nearest caller outside Node's internals (who made the syscall, say). */
  top: { function: string; where: string; selfShare: number; via: string }[];
}

const short = (url: string): string => {
  const file = url.replace(/^file:\/\//, '');
  const packaged = file.lastIndexOf('/node_modules/');
  if (packaged >= 0) return file.slice(packaged + 1);
  const relative = path.relative(projectRoot, file);
  return relative.startsWith('..') ? file : relative;
};

export function summarizeProfile(file: string, topCount = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const totalSamples =
    profile.samples?.length ?? profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0);
  const seconds = (profile.endTime - profile.startTime) / 1e6;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parentOf.set(child, node.id);
  /** The nearest caller in the application or its packages, skipping node: internals. */
  const via = (node: ProfileNode): string => {
    let id = parentOf.get(node.id);
    for (let depth = 0; id !== undefined && depth < 30; depth++) {
      const caller = byId.get(id)!;
      const url = caller.callFrame.url;
      if (url !== '' && !url.startsWith('node:')) {
        return `${caller.callFrame.functionName || '(anonymous)'} ${short(url)}:${caller.callFrame.lineNumber + 1}`;
      }
      id = parentOf.get(id);
    }
    return '';
  };
  const byFunction = new Map<
    string,
    { function: string; where: string; hits: number; callers: Map<string, number> }
  >();
  let idle = 0;
  let gc = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    const name = node.callFrame.functionName || '(anonymous)';
    if (name === '(idle)') idle += hits;
    if (name === '(garbage collector)') gc += hits;
    if (name === '(idle)' || name === '(root)' || hits === 0) continue;
    const where = node.callFrame.url
      ? `${short(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`
      : '';
    const key = `${name} ${where}`;
    const entry = byFunction.get(key) ?? {
      function: name,
      where,
      hits: 0,
      callers: new Map<string, number>(),
    };
    entry.hits += hits;
    const caller = via(node);
    entry.callers.set(caller, (entry.callers.get(caller) ?? 0) + hits);
    byFunction.set(key, entry);
  }
  const busy = Math.max(1, totalSamples - idle);
  return {
    file: path.relative(projectRoot, file),
    busySeconds: Math.round(seconds * (busy / Math.max(1, totalSamples)) * 100) / 100,
    idleShare: Math.round((idle / Math.max(1, totalSamples)) * 1000) / 1000,
    garbageCollectionShare: Math.round((gc / busy) * 1000) / 1000,
    top: [...byFunction.values()]
      .sort((a, b) => b.hits - a.hits)
      .slice(0, topCount)
      .map((entry) => {
        const callers = [...entry.callers].sort((a, b) => b[1] - a[1]);
        const [first] = callers;
        return {
          function: entry.function,
          where: entry.where,
          selfShare: Math.round((entry.hits / busy) * 1000) / 1000,
          via:
            first && first[0] !== ''
              ? `${first[0]} (${Math.round((first[1] / entry.hits) * 100)}%)`
              : '',
        };
      }),
  };
}

export function summarizeProfiles(directory: string | undefined): ProfileSummary[] {
  if (directory === undefined || !existsSync(directory)) return [];
  return readdirSync(directory)
    .filter((name) => name.endsWith('.cpuprofile'))
    .sort()
    .map((name) => summarizeProfile(path.join(directory, name)));
}
