import { parse as parseContentType } from 'content-type';
import fp from 'fastify-plugin';
import type { App } from '../shared/app-types.js';
import { AppError } from '../shared/errors.js';

/** The charset parameters a JSON body may declare (names are case-insensitive). */
const UTF_8 = new Set(['utf-8', 'utf8']);

/**
 * Bodies are JSON in UTF-8, nothing else. Fastify would otherwise hand text/plain bodies to
 * routes as strings, and it decodes every body as UTF-8 whatever its charset says, so a UTF-16
 * body would be read as garbage and a Latin-1 one silently misread (RFC 8259: JSON exchanged
 * between systems is UTF-8).
 */
export const jsonBodies = fp((app: App) => {
  app.removeContentTypeParser('text/plain');
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const header = request.headers['content-type'] ?? '';
    const charset = parseContentType(header).parameters.charset?.toLowerCase();
    if (charset !== undefined && !UTF_8.has(charset)) {
      done(
        new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as JSON in UTF-8.', {
          field: 'Content-Type',
        }),
        undefined,
      );
      return;
    }
    void parseJson(request, body as string, done);
  });
});
