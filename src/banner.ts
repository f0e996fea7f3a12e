import type { OperatorKey } from './modules/auth/operator-key.js';

/** What `npm start` prints once listening: where things are, and how to reach the operator endpoints. */
export function startBanner(server: {
  url: string;
  database: string;
  operatorKey: OperatorKey;
}): string {
  const { url } = server;
  return (
    `\nOverture is listening on ${url}\n` +
    `  API docs (Swagger UI): ${url}/docs\n` +
    `  OpenAPI document:      ${url}/openapi.json\n` +
    `  operator console:      ${url}/operator\n` +
    `  database:              ${server.database}\n` +
    `${operatorBanner(server.operatorKey, url)}\n`
  );
}

/** How to open the operator endpoints; a key only the embedded database keeps is shown. */
function operatorBanner(operator: OperatorKey, url: string): string {
  switch (operator.source) {
    case 'jwt':
      return '  operator endpoints:    a JWT with role admin (npm run token -- <userId> --admin)\n';
    case 'none':
      return '  operator endpoints:    off (set OPERATOR_KEY, at least 32 characters)\n';
    case 'configured':
      return '  operator key:          OPERATOR_KEY (as configured)\n';
    case 'file':
    case 'ephemeral': {
      const where =
        operator.source === 'file'
          ? `kept in ${operator.file}${operator.generated ? ', generated now' : ''}`
          : 'this run only: the database is in memory';
      return (
        `  operator key:          ${operator.key}  (${where})\n` +
        `  try it:                curl -H 'Authorization: Bearer ${operator.key}' ${url}/api/v1/admin/venues\n`
      );
    }
  }
}
