import { Writable } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';

/** The text without terminal colours. */
const plain = (text: string) => stripVTControlCharacters(text);

/** A stdout stand-in that keeps what is written; `isTTY` as a terminal's would be. */
function output(isTTY: boolean) {
  const chunks: string[] = [];
  const stream = Object.assign(
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString());
        done();
      },
    }),
    { isTTY },
  );
  return { stream, text: () => chunks.join('') };
}

const requestLine = {
  reqId: 'r-1',
  method: 'POST',
  route: '/api/v1/queue/token',
  status: 201,
  code: 'SUCCESS',
  user: 1001,
  ms: 3.2,
};

describe('createLogger', () => {
  it.each([
    ['auto', true, 'development', 'pretty'],
    ['auto', true, 'test', 'pretty'],
    ['auto', false, 'development', 'json'],
    ['auto', true, 'production', 'json'],
    ['pretty', false, 'production', 'pretty'],
    ['json', true, 'development', 'json'],
  ] as const)(
    'LOG_FORMAT=%s, stdout a terminal: %s, NODE_ENV=%s → %s',
    (format, isTTY, environment, expected) => {
      const { stream, text } = output(isTTY);
      const logger = createLogger(
        { LOG_LEVEL: 'info', LOG_FORMAT: format, NODE_ENV: environment },
        stream,
      );
      logger.info(requestLine, 'request completed');
      const line = text();
      expect(line.endsWith('\n')).toBe(true);
      if (expected === 'json') {
        expect(JSON.parse(line)).toMatchObject({
          ...requestLine,
          level: 30,
          msg: 'request completed',
        });
      } else {
        // One readable line: the request in words, no JSON.
        expect(plain(line)).toMatch(
          /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: POST \/api\/v1\/queue\/token 201 SUCCESS user 1001 3\.2 ms\n$/,
        );
      }
    },
  );

  it('writes other lines pretty as their message and fields on one line', () => {
    const { stream, text } = output(true);
    const logger = createLogger(
      { LOG_LEVEL: 'info', LOG_FORMAT: 'auto', NODE_ENV: 'development' },
      stream,
    );
    logger.warn({ url: 'http://127.0.0.1:3000' }, 'overture started');
    expect(plain(text())).toMatch(
      /^\[[\d:.]+\] WARN: overture started \{"url":"http:\/\/127\.0\.0\.1:3000"\}\n$/,
    );
  });
});
