import { spawn } from 'node:child_process';
import { once } from 'node:events';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A line of a Node stack trace ("    at fn (file:line:col)"). */
export const STACK_LINE = /^\s+at\s/m;

/**
 * Runs `script` (a TypeScript entry point, as its npm script does with tsx) in a process of its
 * own with only `env` (and PATH/HOME) set, so nothing of the test's environment leaks in; killed
 * after `timeoutMs`. `nodeArgs` go to node before the script (e.g. `--import` of module hooks).
 */
export async function runCommand(
  script: string,
  args: string[] = [],
  env: Record<string, string> = {},
  options: { timeoutMs?: number; nodeArgs?: string[] } = {},
): Promise<CommandResult> {
  const { timeoutMs = 30_000, nodeArgs = [] } = options;
  const child = spawn(process.execPath, ['--import', 'tsx', ...nodeArgs, script, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}
