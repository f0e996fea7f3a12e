/**
 * A process that tries to take the embedded database folder lock, for the lock tests:
 * `node --import tsx test/support/lock-contender.ts <folder> <startAtMs> <holdMs>`. It waits until
 * startAtMs (so several contenders try at the same instant), prints `acquired` or `refused`, holds
 * what it got for holdMs, then releases it and exits.
 */
import { lockDataFolder, DataFolderInUseError } from '../../src/db/pglite-lock.js';

const [folder = '', startAt = '0', hold = '0'] = process.argv.slice(2);
while (Date.now() < Number(startAt)) {
  // Busy-wait: a timer would add its own few milliseconds of spread between the contenders.
}
try {
  const lock = lockDataFolder(folder, { holder: 'a lock contender' });
  process.stdout.write('acquired\n');
  setTimeout(() => lock.release(), Number(hold));
} catch (error) {
  if (!(error instanceof DataFolderInUseError)) throw error;
  process.stdout.write('refused\n');
}
