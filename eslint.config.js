import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import boundaries from 'eslint-plugin-boundaries';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'data/', 'sdk/*/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { globals: { ...globals.node, ...globals.jest } },
    rules: {
      'no-console': ['error', { allow: ['error'] }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The example pages run in the mini-program and in the browser, not in Node.
    files: ['examples/miniprogram/**/*.js', 'examples/h5/app.js'],
    languageOptions: {
      globals: { ...globals.browser, wx: 'readonly', App: 'readonly', Page: 'readonly', getApp: 'readonly' },
    },
  },
  {
    // Request DTOs (env.schema.ts reads strings only, where null cannot occur).
    files: ['src/**/dto/**/*.ts', 'src/**/*.dto.ts', 'src/**/*.query.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'class-validator',
              importNames: ['IsOptional'],
              message:
                'IsOptional lets null through as well as absence: use Optional() or Nullable() from common/validation/presence.ts.',
            },
          ],
        },
      ],
    },
  },
  {
    // Dependencies run one way (README, "Layout"): features → users → platform → database →
    // common / config. Files directly in src/ (bootstrap) belong to no element and may import all.
    files: ['src/**/*.ts'],
    plugins: { boundaries },
    settings: {
      'import/resolver': { typescript: { project: './tsconfig.json' } },
      'boundaries/include': ['src/**/*.ts'],
      'boundaries/elements': [
        { type: 'common', pattern: 'src/common' },
        { type: 'config', pattern: 'src/config' },
        { type: 'database', pattern: 'src/database' },
        {
          type: 'platform',
          pattern:
            'src/{redis,security,metrics,audit,sessions,session-keys,rate-limit,wechat,payments,jobs,health}',
        },
        { type: 'users', pattern: 'src/{users,products}' },
        { type: 'feature', pattern: 'src/{auth,wechat-data,orders,official-account,messages}' },
      ],
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          policies: [
            {
              from: { element: { type: 'common' } },
              allow: { to: { element: { types: { anyOf: ['common', 'config'] } } } },
            },
            {
              from: { element: { type: 'config' } },
              allow: { to: { element: { types: { anyOf: ['config', 'common'] } } } },
            },
            {
              from: { element: { type: 'database' } },
              allow: { to: { element: { types: { anyOf: ['database', 'common', 'config'] } } } },
            },
            {
              from: { element: { type: 'platform' } },
              allow: { to: { element: { types: { anyOf: ['platform', 'database', 'common', 'config'] } } } },
            },
            {
              from: { element: { type: 'users' } },
              allow: {
                to: { element: { types: { anyOf: ['users', 'platform', 'database', 'common', 'config'] } } },
              },
            },
            {
              from: { element: { type: 'feature' } },
              allow: {
                to: {
                  element: {
                    types: { anyOf: ['feature', 'users', 'platform', 'database', 'common', 'config'] },
                  },
                },
              },
            },
          ],
        },
      ],
    },
  },
);
