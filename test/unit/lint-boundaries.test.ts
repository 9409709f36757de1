// The process boundaries of DESIGN.md are enforced by the lint; this proves the lint really catches a crossing.
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = path.join(import.meta.dirname, '..', '..');

async function lint(file: string, code: string, rule = 'no-restricted-imports'): Promise<string[]> {
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === rule).map((m) => m.message);
}

describe('process boundaries', () => {
  it('the core may not import electron; the adapters may', async () => {
    expect(await lint('main/core/x.ts', "import { app } from 'electron';\nexport const a = app;\n")).toHaveLength(1);
    expect(await lint('main/electron/x.ts', "import { app } from 'electron';\nexport const a = app;\n")).toHaveLength(0);
  });
  it.each(['common/x.ts', 'renderer/x.ts', 'worker/x.ts'])('%s may not import Node built-ins', async (file) => {
    expect(await lint(file, "import fs from 'node:fs';\nimport os from 'os';\nexport const a = [fs, os];\n")).toHaveLength(2);
  });
  it('common/ may not reach into a side', async () => {
    expect(await lint('common/x.ts', "import { x } from '../main/core/y.ts';\nexport const a = x;\n")).toHaveLength(1);
  });
  it.each(['renderer/x.ts', 'worker/x.ts'])('%s may take types but no values from modules that load zod', async (file) => {
    const rule = '@typescript-eslint/no-restricted-imports';
    expect(await lint(file, "import { z } from 'zod';\nimport { HOTKEY_ACTIONS } from '../common/settings.ts';\nexport const a = [z, HOTKEY_ACTIONS];\n", rule)).toHaveLength(2);
    expect(await lint(file, "import type { Settings } from '../common/settings.ts';\nexport type A = Settings;\n", rule)).toHaveLength(0);
  });
});
