import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

/*
 * Module boundaries (docs/decisions/0029-module-boundaries-in-lint.md). Import paths are matched
 * as written: every import in src is relative, so from src/modules/<m>/ another module is
 * `../<other>/…` and the rest of src is `../../…`.
 */
const adapterKinds = 'postgres|redis|stream|kafka|memory|inprocess';
/** An adapter, or a part of one: `holds.store.postgres.js`, `bus.redis.claimer.js`. */
const adapter = `\\.(${adapterKinds})(\\.[\\w-]+)?\\.js$`;
const adapterFiles = [
  `src/modules/**/*.{${adapterKinds.replaceAll('|', ',')}}.ts`,
  `src/modules/**/*.{${adapterKinds.replaceAll('|', ',')}}.*.ts`,
];
/**
 * What a module shows the others: its ports (`*.store`, `*.booking`, the ranking module's
 * `ranking.mirror`), its service, its routes plugin, the events module's event types and the auth
 * module's guards. Anything else in a module folder is its own business.
 */
const publicSurface = [
  '[\\w-]+\\.(store|booking|service|routes)\\.js',
  'events\\.js',
  'guards\\.js',
  'ranking\\.mirror\\.js',
];

const onlyContainerImportsAdapters = {
  regex: adapter,
  message: 'Only src/container.ts imports adapters: depend on the port (*.store.ts, …) instead.',
};
/** An adapter may be made of parts in its own folder; any other adapter is the container's. */
const adapterPartsFromOwnFolder = {
  regex: `^(?!\\./[\\w.-]+$).*${adapter}`,
  message:
    "Only src/container.ts imports another module's adapters; parts of this adapter live beside it.",
};
const otherModulesPublicSurfaceOnly = {
  regex: `^\\.\\./[\\w-]+/(?!(${publicSurface.join('|')})$)`,
  message:
    'Another module is reached through its public surface only: its ports (*.store, *.booking, ranking.mirror), service, routes, events.ts, guards.ts (docs/decisions/0029).',
};
const noCompositionFromModules = {
  regex: '^\\.\\./\\.\\./((workers|cli)/|(app|container|main|server)\\.js$)',
  message:
    'Modules do not import the composition (app, container, main, workers, cli): it imports them.',
};

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'web/dist/',
      'node_modules/',
      'coverage/',
      'bench/results/',
      // Generated from the OpenAPI document (scripts/api-types.ts); checked by npm run check.
      'web/src/api-types.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-confusing-void-expression': 'off',
    },
  },
  {
    // Tests index fixtures they just created and probe values that may be absent on purpose.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unnecessary-condition': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [onlyContainerImportsAdapters] }] },
  },
  {
    files: ['src/modules/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            onlyContainerImportsAdapters,
            otherModulesPublicSurfaceOnly,
            noCompositionFromModules,
          ],
        },
      ],
    },
  },
  {
    files: adapterFiles,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            adapterPartsFromOwnFolder,
            otherModulesPublicSurfaceOnly,
            noCompositionFromModules,
          ],
        },
      ],
    },
  },
  // The composition root picks the adapters; tests and the bench may import anything.
  { files: ['src/container.ts', 'src/container.*.ts'], rules: { 'no-restricted-imports': 'off' } },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  prettier,
);
