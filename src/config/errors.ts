export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The refusal of a configuration: one line per problem. */
export const invalid = (lines: string[]) =>
  new ConfigError(`Invalid configuration:\n${lines.map((line) => `  ${line}`).join('\n')}`);

export type PropertySchema = {
  type?: string;
  enum?: readonly string[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
};

/** What a variable accepts, in words, from its schema. */
function allowedValues(schema: PropertySchema): string {
  if (schema.enum) return `one of ${schema.enum.join(', ')}`;
  if (schema.type === 'boolean') return 'true or false';
  if (schema.type === 'integer')
    return `a whole number from ${schema.minimum ?? '-∞'} to ${schema.maximum ?? '∞'}`;
  if (schema.type === 'number')
    return `a number from ${schema.minimum ?? '-∞'} to ${schema.maximum ?? '∞'}`;
  const rules = [
    schema.pattern === undefined ? '' : `matching ${schema.pattern}`,
    schema.maxLength === undefined ? '' : `at most ${schema.maxLength} characters`,
  ].filter(Boolean);
  return `text ${rules.join(', ')}`.trim();
}

/** `NAME="value"`, without the value of a secret. */
const given = (name: string, value: unknown): string =>
  /SECRET|PASSWORD|^OPERATOR_KEY$/.test(name)
    ? `${name} (value not shown)`
    : `${name}=${JSON.stringify(value)}`;

/** One line per refused variable: its name, the value given and what it accepts. */
export function describeInvalid(
  errors: { instancePath?: string }[],
  data: Record<string, unknown>,
  properties: Record<string, PropertySchema>,
) {
  const names = [...new Set(errors.map((error) => (error.instancePath ?? '').replace(/^\//, '')))];
  return names
    .filter((name) => name !== '')
    .map((name) => {
      const schema = properties[name] ?? {};
      return `${given(name, data[name])} is not allowed: expected ${allowedValues(schema)}`;
    });
}
