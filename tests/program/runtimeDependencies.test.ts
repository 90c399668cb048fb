/**
 * The Pulumi program loads only its runtime dependencies: after `npm install
 * --omit=dev`, `pulumi up` must still work. Loaded in a child process that refuses
 * every package the lock file marks dev-only (to require and to the compiler), and
 * compiles and type-checks the program as `pulumi up` does: Pulumi's ts-node, the
 * project's tsconfig.json and its own `typescript` (a runtime dependency).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ROOT, stackConfig, secondaryOutputs, StackName } from './support/program';

const SCRIPT = path.join(__dirname, 'support', 'runtimeOnly.js');

function runWithoutDevDependencies(stack: StackName): { types?: string[]; error?: string; refused: string[] } {
  const result = spawnSync(process.execPath, [SCRIPT], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, TAP_STACK: stack, TAP_CONFIG: JSON.stringify(stackConfig(stack)), TAP_SECONDARY: JSON.stringify(secondaryOutputs()) },
  });
  const last = result.stdout.trim().split('\n').pop() ?? '';
  if (last === '') throw new Error(`the child printed nothing: ${result.stderr}`);
  return JSON.parse(last) as { types?: string[]; error?: string; refused: string[] };
}

describe('runtime dependencies', () => {
  const devDependencies = Object.keys((JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies);

  test.each<StackName>(['prod-eu', 'prod-us'])('GIVEN only what npm install --omit=dev installs WHEN the %s program is type-checked and run under mocks THEN it declares its resources and needs no devDependency, not even a type library', (stack) => {
    const run = runWithoutDevDependencies(stack);
    expect(run.error).toBeUndefined();
    // Packages probed inside a try (debug's optional supports-color) may be refused harmlessly;
    // none of the project's own devDependencies may be asked for at all.
    expect(run.refused.filter((key) => devDependencies.some((d) => key === `node_modules/${d}`))).toEqual([]);
    expect(run.types).toEqual(expect.arrayContaining(['aws-native:ecr:Repository', 'aws:s3/bucket:Bucket', ...(stack === 'prod-us' ? ['aws:cloudformation/stackSet:StackSet'] : [])]));
  });

  test('GIVEN the guard WHEN a dev-only package is required THEN it is refused (the check can fail)', () => {
    const check = spawnSync(
      process.execPath,
      ['-e', `process.env.TAP_CONFIG='{}'; require(${JSON.stringify(SCRIPT)}); try { require('@aws-cdk/aws-service-spec'); console.log('loaded') } catch (e) { console.log('refused') }`],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
    );
    expect(check.stdout).toContain('refused');
  });

  test('GIVEN package.json WHEN read THEN typescript is a runtime dependency (Pulumi compiles the program with it; its own fallback is TypeScript 3.8)', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies)).toContain('typescript');
  });
});
