// The GitHub workflows cannot run here, so a typo in them would surface only on GitHub. Each file is checked
// against the project's own schema of GitHub's workflow syntax (test/schemas/README.md) with ajv in strict mode,
// and what the steps name must exist in this repository.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';

const root = path.join(import.meta.dirname, '..', '..');
const workflowsDir = path.join(root, '.github', 'workflows');
const schema = JSON.parse(readFileSync(path.join(root, 'test', 'schemas', 'github-workflow.schema.json'), 'utf8')) as object;
// Strict mode, and its warnings (strictTypes, strictTuples) fail too: a keyword ajv does not know or a loose type
// in the schema is a mistake in the schema.
const strictLogger = {
  log: (...args: unknown[]): void => console.log(...args),
  warn: (...args: unknown[]): never => {
    throw new Error(`ajv strict mode: ${args.join(' ')}`);
  },
  error: (...args: unknown[]): never => {
    throw new Error(`ajv: ${args.join(' ')}`);
  },
};
const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, logger: strictLogger }).compile(schema);

interface Step {
  run?: string;
  uses?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  jobs: Record<string, { 'runs-on'?: unknown; steps?: Step[]; strategy?: { matrix?: Record<string, unknown> } }>;
}

const files = readdirSync(workflowsDir).filter((f) => /\.ya?ml$/.test(f));
const load = (file: string): Workflow => yaml.load(readFileSync(path.join(workflowsDir, file), 'utf8')) as Workflow;
const errors = (doc: unknown): string[] => (validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`));

describe('GitHub workflows', () => {
  it('are the CI and release workflows', () => {
    expect(files.sort()).toEqual(['ci.yml', 'release.yml']);
  });

  it.each(files)('%s passes the GitHub workflow schema', (file) => {
    expect(errors(load(file))).toEqual([]);
  });

  it('a typo is caught: a misspelt runs-on, a misspelt step key, an unknown trigger', () => {
    const doc = load('ci.yml');
    const job = Object.values(doc.jobs)[0] as Record<string, unknown>;
    const misspelt = structuredClone(doc);
    const misspeltJob = Object.values(misspelt.jobs)[0] as Record<string, unknown>;
    misspeltJob['run-on'] = job['runs-on'];
    delete misspeltJob['runs-on'];
    expect(errors(misspelt).join('\n')).toMatch(/runs-on/);

    const stepTypo = structuredClone(doc);
    const steps = (Object.values(stepTypo.jobs)[0]?.steps ?? []) as Array<Record<string, unknown>>;
    (steps[1] as Record<string, unknown>).wiht = (steps[1] as Record<string, unknown>).with;
    delete (steps[1] as Record<string, unknown>).with;
    expect(errors(stepTypo).join('\n')).toMatch(/wiht/);

    expect(errors({ ...doc, on: { pushh: {} } }).join('\n')).toMatch(/pushh/);
    expect(errors({ ...doc, on: 'pushh' })).not.toEqual([]);
  });

  it('a misuse is caught: a step with both run and uses, a job without runs-on, a reusable-workflow job with steps', () => {
    const doc = load('ci.yml');
    const both = structuredClone(doc);
    const steps = (Object.values(both.jobs)[0]?.steps ?? []) as Array<Record<string, unknown>>;
    (steps[0] as Record<string, unknown>).run = 'echo';
    expect(errors(both)).not.toEqual([]);

    expect(errors({ ...doc, jobs: { lone: { steps: [{ run: 'echo' }] } } }).join('\n')).toMatch(/runs-on/);
    expect(errors({ ...doc, jobs: { call: { uses: './.github/workflows/x.yml', steps: [{ run: 'echo' }] } } })).not.toEqual([]);
    expect(errors({ ...doc, jobs: { call: { uses: './.github/workflows/x.yml', secrets: 'inherit' } } })).toEqual([]);
  });

  it('runs only npm scripts and files that exist here', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    for (const file of files) {
      const runs = Object.values(load(file).jobs).flatMap((job) => job.steps ?? []).flatMap((step) => (step.run ? [step.run] : []));
      for (const run of runs) {
        for (const [, script] of run.matchAll(/npm run ([\w:-]+)/g)) expect(pkg.scripts, `${file}: npm run ${script}`).toHaveProperty([script as string]);
        for (const [, local] of run.matchAll(/(?:bash|node) ((?:\.ci|scripts|node_modules)\/[\w./-]+)/g)) expect(existsSync(path.join(root, local as string)), `${file}: ${local}`).toBe(true);
      }
      expect(existsSync(path.join(root, '.nvmrc'))).toBe(true);
    }
  });

  it('builds every installer the README promises, uploads them, and signs only from secrets', () => {
    const release = load('release.yml');
    const text = readFileSync(path.join(workflowsDir, 'release.yml'), 'utf8');
    for (const target of ['--linux AppImage deb', '--win nsis', '--mac dmg']) expect(text).toContain(target);
    expect(text).toContain('--publish never');
    expect(text).toMatch(/uses: actions\/upload-artifact@/);
    for (const secret of ['CSC_LINK', 'CSC_KEY_PASSWORD', 'APPLE_ID', 'APPLE_APP_SPECIFIC_PASSWORD', 'APPLE_TEAM_ID']) expect(text).toContain(`\${{ secrets.${secret} }}`);
    expect(Object.keys(release.jobs)).toEqual(['installers']);
    const ci = readFileSync(path.join(workflowsDir, 'ci.yml'), 'utf8');
    expect(ci).toContain('npm run test:electron');
    for (const os of ['ubuntu', 'windows', 'macos']) expect(ci).toContain(os);
  });
});
