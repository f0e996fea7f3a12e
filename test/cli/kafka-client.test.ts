import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { STACK_LINE, runCommand } from '../support/command.js';

/**
 * Kafka settings on a machine where the optional client cannot be loaded: the server refuses to
 * start, with the install steps and no stack trace. Module hooks in the spawned process make the
 * package missing (or a native build that does not load), whatever this machine has installed.
 */
const folder = mkdtempSync(join(tmpdir(), 'overture-kafka-hooks-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** A file to `--import` that registers a resolve hook answering for the Kafka package. */
function hooks(name: string, resolve: string): string {
  const hooksFile = join(folder, `${name}-hooks.mjs`);
  writeFileSync(
    hooksFile,
    `export async function resolve(specifier, context, next) {
       if (specifier === '@confluentinc/kafka-javascript') { ${resolve} }
       return next(specifier, context);
     }\n`,
  );
  const registerFile = join(folder, `${name}-register.mjs`);
  writeFileSync(
    registerFile,
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooksFile).href)});\n`,
  );
  return registerFile;
}

const notInstalled = hooks(
  'missing',
  `const error = new Error("Cannot find package '@confluentinc/kafka-javascript'");
   error.code = 'ERR_MODULE_NOT_FOUND';
   throw error;`,
);
const notLoading = hooks(
  'broken',
  `return { shortCircuit: true, url: 'data:text/javascript,throw new Error("The module was compiled against a different Node.js version using NODE_MODULE_VERSION 115.")' };`,
);

const start = (env: Record<string, string>, hook: string) =>
  runCommand(
    'src/main.ts',
    [],
    { PGLITE_IN_MEMORY: 'true', PORT: '0', LOG_LEVEL: 'warn', ...env },
    { nodeArgs: ['--import', hook] },
  );

describe('Kafka settings without the Kafka client', () => {
  it.each([
    [{ KAFKA_BROKERS: '127.0.0.1:9092' }, 'EVENT_BUS=kafka (KAFKA_BROKERS)'],
    [
      { QUEUE_BACKEND: 'stream', KAFKA_BROKERS: '127.0.0.1:9092', EVENT_BUS: 'inprocess' },
      'QUEUE_BACKEND=stream',
    ],
  ])('%o: refuses to start with the install steps', async (env, setting) => {
    const result = await start(env, notInstalled);
    expect(result.code).toBe(1);
    expect(result.stdout).not.toContain('listening');
    expect(result.stderr).toContain(
      `Overture failed to start: ${setting} needs the optional Kafka client, but @confluentinc/kafka-javascript is not installed.`,
    );
    for (const step of [
      'apt-get install g++ make pkg-config libssl-dev zlib1g-dev',
      'librdkafka-dev',
      'CKJS_LINKING=dynamic npm_config_nodedir=/usr npm install',
      'allowScripts',
      'node -e "require(\'@confluentinc/kafka-javascript\')"',
      'unset KAFKA_BROKERS',
    ])
      expect(result.stderr).toContain(step);
    expect(result.stderr).not.toMatch(STACK_LINE);
  });

  it('says how to rebuild a client that is installed but does not load', async () => {
    const result = await start({ KAFKA_BROKERS: '127.0.0.1:9092' }, notLoading);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'is installed but does not load (The module was compiled against a different Node.js version using NODE_MODULE_VERSION 115.)',
    );
    expect(result.stderr).toContain(
      'npm rebuild @confluentinc/kafka-javascript --build-from-source',
    );
    expect(result.stderr).not.toMatch(STACK_LINE);
  });
});
