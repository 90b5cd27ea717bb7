// Lint: the recommended rules of ESLint and typescript-eslint (syntax-only, so `npm test` stays
// fast), plus the house rules of ../shared/STYLE.md that a machine can check. Formatting is
// prettier's (`npm run format`), so no stylistic rule lives here.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['node_modules/', 'coverage/', 'test-output/', 'keys/', 'data/', 'connectors/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // Our validators match control characters on purpose: to refuse them (NUL in a login, C0 in
      // a SAML value).
      'no-control-regex': 'off',
      // `_`-named bindings are the idiom for "deliberately unused" (a rest sibling that drops a
      // field, express's four-argument error handler).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // Tests read JSON bodies whose shape each assertion states; typing every one adds nothing.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['views/assets/**/*.js'],
    languageOptions: {
      globals: { document: 'readonly', window: 'readonly', navigator: 'readonly' },
    },
  },
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        fetch: 'readonly',
        AbortController: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        structuredClone: 'readonly',
        queueMicrotask: 'readonly',
        performance: 'readonly',
        crypto: 'readonly',
        AbortSignal: 'readonly',
        Response: 'readonly',
        Request: 'readonly',
        Headers: 'readonly',
        FormData: 'readonly',
        Blob: 'readonly',
        atob: 'readonly',
        btoa: 'readonly',
      },
    },
  },
)
