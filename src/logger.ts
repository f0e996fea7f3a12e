import pino, { type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';
import type { Config } from './config.js';

/** Fields a request-completed line shows in its message when pretty (src/http/request-log.ts). */
interface RequestLine {
  method?: string;
  route?: string;
  path?: string;
  status?: number;
  code?: string;
  user?: number;
  ms?: number;
}

/** `POST /api/v1/queue/token 201 SUCCESS user 1001 3.1 ms` for a request; the message otherwise. */
function oneLine(log: Record<string, unknown>, messageKey: string): string {
  const { method, route, path, status, code, user, ms } = log as RequestLine;
  const raw = log[messageKey];
  const message = typeof raw === 'string' ? raw : JSON.stringify(raw ?? '');
  if (status === undefined || method === undefined) return message;
  return [
    method,
    route ?? path,
    status,
    code,
    user === undefined ? undefined : `user ${user}`,
    ms === undefined ? undefined : `${ms} ms`,
  ]
    .filter((part) => part !== undefined)
    .join(' ');
}

/**
 * The process's logger. JSON lines (pino's, cheap, for machines) unless a person reads them:
 * LOG_FORMAT=pretty, or auto (the default) on a terminal outside production. Pretty lines are
 * formatted in this process, synchronously, so the last lines before an exit are never lost.
 */
export function createLogger(
  config: Pick<Config, 'LOG_LEVEL' | 'LOG_FORMAT' | 'NODE_ENV'>,
  destination: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout,
): Logger {
  const options = { level: config.LOG_LEVEL, base: { service: 'overture' } };
  const pretty =
    config.LOG_FORMAT === 'pretty' ||
    (config.LOG_FORMAT === 'auto' &&
      destination.isTTY === true &&
      config.NODE_ENV !== 'production');
  if (!pretty) return destination === process.stdout ? pino(options) : pino(options, destination);
  return pino(
    options,
    PinoPretty({
      destination,
      sync: true,
      colorize: destination.isTTY === true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,service,reqId,method,route,path,status,code,user,ms',
      messageFormat: oneLine,
      singleLine: true,
    }),
  );
}
