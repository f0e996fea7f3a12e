import { randomUUID } from 'node:crypto';
import {
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import lockfile from 'proper-lockfile';
import { ExplainedError } from '../shared/explained-error.js';

/**
 * One process per embedded database folder (docs/decisions/0014-pglite-folder-lock.md).
 *
 * PGlite is PostgreSQL inside one process: two processes on one folder each believe they are the
 * only server, so both sell the same seat and one's writes are lost. The folder is locked with
 * proper-lockfile (an atomic mkdir of `<folder>.lock`, kept fresh while held, removed on exit), and
 * the lock says who holds it (`owner.json`: pid, host, what, since) so a second opener can be told
 * what to do. proper-lockfile's own stale takeover (remove the old lock, then mkdir) is switched
 * off: two openers judging the same lock stale could each remove it and both end up holding it,
 * and a holder whose event loop is busy longer than the stale time (a long WASM statement) would
 * lose its lock while alive. Instead a lock is stale when its holder is gone — on this host, its
 * pid no longer runs (so a restart after kill -9 takes over at once); on another host sharing the
 * folder, it stopped refreshing the lock — and it is taken over by renaming it to a name made
 * from the dead holder's id: a rename is atomic, so of two openers judging the same holder dead
 * exactly one moves its lock away, and the other's rename fails (the name exists) or moves a
 * different holder's lock, which it then notices and puts back.
 */

/** How often a holder refreshes its lock's mtime (what a holder on another host goes by). */
const REFRESH_MS = 2_000;
/** A lock from another host not refreshed for this long is stale. */
const STALE_MS = 10_000;
/** How long an opener waits for a lock just created to say who holds it. */
const OWNER_WAIT_MS = 1_000;
/** Attempts at most (each a lock released or taken over by someone else meanwhile). */
const MAX_ATTEMPTS = 100;
/** Locks moved away by a takeover are deleted after this long (see takeOver). */
const GRAVEYARD_KEEP_MS = 60_000;

export interface LockOwner {
  id: string;
  pid: number;
  host: string;
  /** What holds it, in words ("the Overture server", "npm run migrate"). */
  holder: string;
  since: string;
  /** The holder's start time in /proc (Linux), so a pid reused by another program is not taken for it. */
  processStart: string | null;
}

/** Explains itself: who holds the folder and what to do (printed as it is, no stack trace). */
export class DataFolderInUseError extends ExplainedError {
  override name = 'DataFolderInUseError';
}

export interface DataFolderLock {
  readonly owner: LockOwner;
  release(): void;
}

export interface LockOptions {
  holder: string;
  /** Called if the lock is taken from this process (someone deleted it): stop using the folder. */
  onLost?: (error: Error) => void;
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** The state and start time (fields 3 and 22) of a process in /proc (Linux), or null. */
function procStat(pid: number): { state: string; start: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command name (which may hold spaces) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', start: fields[19] ?? '' };
  } catch {
    return null;
  }
}

/** Whether a pid runs: a process killed but not yet reaped by its parent (a zombie) does not. */
function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  const state = procStat(pid)?.state;
  return state !== 'Z' && state !== 'X';
}

function readOwner(lockPath: string): LockOwner | undefined {
  try {
    return JSON.parse(readFileSync(join(lockPath, 'owner.json'), 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

function lockMtimeMs(lockPath: string): number | undefined {
  try {
    return statSync(lockPath).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Whether the lock's holder still runs (a lock without an owner yet is being created). */
function holderAlive(owner: LockOwner | undefined, mtimeMs: number): boolean {
  if (owner && owner.host === hostname()) {
    if (!pidRuns(owner.pid)) return false;
    const start = owner.processStart === null ? null : (procStat(owner.pid)?.start ?? null);
    return start === null || start === owner.processStart;
  }
  return Date.now() - mtimeMs < STALE_MS;
}

function inUseMessage(folder: string, owner: LockOwner | undefined): string {
  const who = owner
    ? `${owner.holder} (pid ${owner.pid}${owner.host === hostname() ? '' : ` on ${owner.host}`}, since ${owner.since})`
    : 'another process that has not said which';
  return (
    `The embedded database folder ${folder} is in use by ${who}. PGlite runs inside one process, ` +
    'so only one program may open its folder at a time (two would sell the same seat twice). ' +
    'Stop that process first, or work through it: a running server answers the admin API, e.g. ' +
    'GET /api/v1/admin/dead-letters for the dead letters. To run several processes on one ' +
    'database, use PostgreSQL (DATABASE_URL).'
  );
}

/**
 * Moves a dead holder's lock out of the way. The target name comes from the lock judged dead (its
 * holder's id, or its mtime when it has no owner yet), so a second opener that judged the same lock
 * fails here (the name is taken) instead of moving the lock the first opener has just created; if
 * what was moved is not the lock judged after all (it changed in between), it goes back at once.
 */
function takeOver(lockPath: string, judged: LockOwner | undefined, mtimeMs: number): void {
  const grave = `${lockPath}.stale-${judged?.id ?? `unowned-${mtimeMs}`}`;
  try {
    renameSync(lockPath, grave);
  } catch {
    return; // Taken over by someone else already, or released: the next attempt sees which.
  }
  if (readOwner(grave)?.id !== judged?.id || (!judged && lockMtimeMs(grave) !== mtimeMs)) {
    try {
      renameSync(grave, lockPath);
    } catch {
      // A third opener created a lock meanwhile; the holder moved away loses its lock at its next
      // refresh and stops (onLost).
    }
  }
}

function removeOldGraves(lockPath: string): void {
  const folder = dirname(lockPath);
  const prefix = `${basename(lockPath)}.stale-`;
  for (const name of readdirSync(folder)) {
    if (!name.startsWith(prefix)) continue;
    const grave = join(folder, name);
    try {
      if (Date.now() - statSync(grave).ctimeMs > GRAVEYARD_KEEP_MS)
        rmSync(grave, { recursive: true, force: true });
    } catch {
      // Removed by another process meanwhile.
    }
  }
}

/**
 * Takes the exclusive lock on an embedded database folder (which must exist), or throws
 * DataFolderInUseError naming the process that holds it. Synchronous: nothing else runs between
 * judging a lock and acting on it.
 */
export function lockDataFolder(folder: string, options: LockOptions): DataFolderLock {
  const canonical = realpathSync(folder);
  const lockPath = `${canonical}.lock`;
  const owner: LockOwner = {
    id: randomUUID(),
    pid: process.pid,
    host: hostname(),
    holder: options.holder,
    since: new Date().toISOString(),
    processStart: procStat(process.pid)?.start ?? null,
  };
  const waitUntil = Date.now() + OWNER_WAIT_MS;
  for (let attempt = 1; ; attempt++) {
    let release: () => void;
    try {
      release = lockfile.lockSync(canonical, {
        realpath: false,
        lockfilePath: lockPath,
        // Never stale to proper-lockfile: staleness is judged here, by the holder.
        stale: Number.MAX_SAFE_INTEGER,
        update: REFRESH_MS,
        onCompromised: (error) => {
          if (!options.onLost) throw error;
          options.onLost(error);
        },
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
      const holder = readOwner(lockPath);
      const mtimeMs = lockMtimeMs(lockPath);
      if (attempt >= MAX_ATTEMPTS) throw new DataFolderInUseError(inUseMessage(canonical, holder));
      if (mtimeMs === undefined) continue; // Released meanwhile: try again.
      if (holderAlive(holder, mtimeMs)) {
        // A lock created an instant ago says who holds it an instant later.
        if (holder === undefined && Date.now() < waitUntil) {
          sleep(20);
          continue;
        }
        throw new DataFolderInUseError(inUseMessage(canonical, holder));
      }
      takeOver(lockPath, holder, mtimeMs);
      continue;
    }
    // Say who holds it. Writing into the lock directory moves its mtime, which proper-lockfile
    // checks on each refresh to see that the lock is still its own: put it back.
    const ownerPath = join(lockPath, 'owner.json');
    const { mtime } = statSync(lockPath);
    writeFileSync(ownerPath, JSON.stringify(owner));
    utimesSync(lockPath, mtime, mtime);
    removeOldGraves(lockPath);
    let released = false;
    const releaseLock = () => {
      if (released) return;
      released = true;
      process.off('exit', releaseLock);
      // proper-lockfile removes the directory with rmdir, also on exit: empty it first.
      rmSync(ownerPath, { force: true });
      try {
        release();
      } catch {
        // Already gone (taken from us): nothing of ours to remove.
      }
    };
    process.on('exit', releaseLock);
    return { owner, release: releaseLock };
  }
}
