import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import ts from 'typescript';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { issueChallenge, verifySolution } from '../../src/modules/queue/queue.pow.js';
import { describeWithBrowser, lanAddress, launchChromium } from '../support/browser.js';

const SECRET = 'browser-solver-test-secret-of-32-characters';

/** The solver's own source, as the web client's build would ship it (types stripped). */
const solverSource = ts
  .transpileModule(readFileSync('src/modules/queue/queue.pow.solve.ts', 'utf8'), {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  })
  .outputText.replace(/^export /gm, '');

/**
 * The proof-of-work solver in Debian's Chromium: a challenge issued by the server's code, solved
 * by the solver file in the page, verified by the server's code. And the limit decision 0051
 * names: WebCrypto is there on a secure origin (loopback here, HTTPS in production), not on a
 * plain-HTTP network address.
 */
describeWithBrowser('the proof-of-work solver in Chromium', () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  let port: number;

  beforeAll(async () => {
    server = createServer((_, response) =>
      response
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><title>x</title>'),
    );
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    port = (server.address() as AddressInfo).port;
    browser = await launchChromium();
    page = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server.close(resolve));
  });

  const solveInPage = (challenge: string, difficulty: number) =>
    page.evaluate(
      async ({ code, challenge, difficulty }) => {
        // eslint-disable-next-line @typescript-eslint/no-implied-eval
        const load = new Function(`${code}\nreturn solveChallenge;`) as () => (
          challenge: string,
          difficulty: number,
        ) => Promise<{ solution: string; hashes: number }>;
        return load()(challenge, difficulty);
      },
      { code: solverSource, challenge, difficulty },
    );

  it('solves a challenge in the page that the server then accepts', async () => {
    await page.goto(`http://127.0.0.1:${port}/`);
    const now = new Date();
    const issued = issueChallenge({
      concertId: 7,
      difficulty: 12,
      ttlSeconds: 60,
      secret: SECRET,
      now,
    });
    const { solution, hashes } = await solveInPage(issued.challenge, issued.difficulty);
    expect(hashes).toBeGreaterThan(0);
    expect(
      verifySolution(issued.challenge, solution, { concertId: 7, secret: SECRET, now }),
    ).toMatchObject({ ok: true, nonce: issued.nonce });
  });

  it('has no WebCrypto on a plain-HTTP network address (not a secure context)', async () => {
    expect(lanAddress).toBeDefined();
    await page.goto(`http://${lanAddress ?? ''}:${port}/`);
    const inPage = () => {
      const page = globalThis as unknown as {
        isSecureContext: boolean;
        crypto: { subtle?: unknown };
      };
      return [page.isSecureContext, typeof page.crypto.subtle];
    };
    expect(await page.evaluate(inPage)).toEqual([false, 'undefined']);
  });
});
