// Lint, with the process boundaries of DESIGN.md machine-checked: each folder may import only what runs where
// its code runs.
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((name) => `node:${name}`)];
const browserOnly = {
  paths: nodeBuiltins.map((name) => ({ name, message: 'This code runs in a browser: no Node built-ins.' })),
  patterns: [{ group: ['electron', 'ws', 'better-sqlite3'], message: 'This code runs in a browser: no Node or Electron packages.' }],
};

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', '.tmp/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // The core runs under plain Node (tests, benchmarks, the CLI): Electron is for the adapters only.
    files: ['main/**/*.ts'],
    ignores: ['main/electron/**', 'main/index.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'Only main/electron/ may import electron: the core must run without it.' }],
        patterns: [{ group: ['**/electron/**'], message: 'The core may not depend on the Electron adapters.' }],
      }],
    },
  },
  {
    // One IPC map, used only through its wrappers (main/electron/ipc.ts, preload/index.ts).
    files: ['**/*.ts'],
    ignores: ['main/electron/ipc.ts', 'preload/index.ts'],
    rules: {
      'no-restricted-syntax': ['error',
        { selector: "MemberExpression[object.name='ipcMain'][property.name=/^(handle|on|once|handleOnce)$/]", message: 'Register IPC through main/electron/ipc.ts (validated, sender-checked).' },
        { selector: "MemberExpression[object.name='ipcRenderer']", message: 'Windows reach the main process only through the preload bridge.' },
      ],
    },
  },
  {
    files: ['renderer/**/*.ts', 'worker/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', browserOnly] },
  },
  {
    // Validation belongs to the main process: a page that loads zod (through a value from a module with schemas)
    // spends ~100 ms evaluating it before it shows anything. Types from those modules cost nothing.
    files: ['renderer/**/*.ts', 'worker/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{
          group: ['zod', '**/common/settings.ts', '**/common/ipc.ts', '**/common/protocol.ts', '**/common/card-events.ts'],
          allowTypeImports: true,
          message: 'This module loads zod: import only types from it here (move a needed value to a module without schemas).',
        }],
      }],
    },
  },
  {
    // Contracts are shared by every side: nothing runtime-specific, and no reaching into a side.
    files: ['common/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        ...browserOnly,
        patterns: [
          ...browserOnly.patterns,
          { group: ['**/main/**', '**/renderer/**', '**/worker/**', '**/preload/**'], message: 'common/ may not import from a side.' },
        ],
      }],
    },
  },
);
