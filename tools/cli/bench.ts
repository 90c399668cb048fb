/**
 * `npm run bench`: one table with synth time, full test time (with
 * --with-tests), template sizes, the estimated critical paths, the
 * transaction validator's throughput (python3 lambda/bench.py --json) and its
 * hardening figures (python3 lambda/hardening_bench.py --json: card numbers
 * found anywhere, reused ids answered 409, worst answer time under faults).
 *
 *   npm run bench
 *   npm run bench -- --with-tests   # also runs and times `npm test` (minutes)
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { renderAll, synthesize } from '../../cfn/build';
import { validateAll } from '../validate';
import { deploymentPlan } from '../review/deploymentPlan';
import { formatTable, hardeningRows, planRows, ProcessResult, Row, sizeRows, validatorRows } from '../review/benchRows';

const REPO = path.join(__dirname, '..', '..');
const SYNTH_RUNS = 5;

const ms = (t: number): string => (t >= 10_000 ? `${(t / 1000).toFixed(1)} s` : `${Math.round(t)} ms`);

function time<T>(f: () => T): [T, number] {
  const start = performance.now();
  const value = f();
  return [value, performance.now() - start];
}

function run(command: string, args: readonly string[]): ProcessResult {
  const r = spawnSync(command, args, { cwd: REPO, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error?.message };
}

function main(argv: readonly string[]): number {
  const unknown = argv.filter((a) => a !== '--with-tests');
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown option ${unknown.join(' ')}\nusage: npm run bench -- [--with-tests]\n`);
    return 1;
  }
  const rows: Row[] = [];

  // Synth: the first run pays for module initialisation; report the median of the following ones.
  const [templates, firstMs] = time(() => synthesize());
  const runs = Array.from({ length: SYNTH_RUNS }, () => time(() => renderAll(synthesize()))[1]).sort((a, b) => a - b);
  rows.push({ metric: 'synth: generate + render', value: ms(runs[Math.floor(SYNTH_RUNS / 2)]), note: `in process, median of ${SYNTH_RUNS} warm runs (first run ${ms(firstMs)})` });
  const [findings, validateMs] = time(() => validateAll(templates));
  rows.push({
    metric: 'synth: validation',
    value: ms(validateMs),
    note: `cfn-lint, cfn-guard, cross-stack, invariants, size (what \`npm run synth\` adds); ${findings.length} finding(s)`,
  });

  if (argv.includes('--with-tests')) {
    const [result, testMs] = time(() => run('npm', ['test']));
    rows.push({ metric: 'full test suite (npm test)', value: ms(testMs), note: result.status === 0 ? 'passed' : `FAILED (exit ${result.status})` });
  } else {
    rows.push({ metric: 'full test suite (npm test)', value: 'skipped (--with-tests)', note: 'takes minutes: typecheck, lint, jest, pytest' });
  }

  rows.push(...sizeRows(renderAll(templates)));
  rows.push(...planRows(deploymentPlan(templates)));

  const script = path.join(REPO, 'lambda', 'bench.py');
  const command = 'python3 lambda/bench.py --json';
  rows.push(...validatorRows(fs.existsSync(script) ? run('python3', [script, '--json']) : undefined, command));

  // Card numbers nowhere, idempotency bound, time budget under loopback faults (about 15 s).
  const hardening = path.join(REPO, 'lambda', 'hardening_bench.py');
  const hardeningCommand = 'python3 lambda/hardening_bench.py --json';
  rows.push(...hardeningRows(fs.existsSync(hardening) ? run('python3', [hardening, '--json']) : undefined, hardeningCommand));

  process.stdout.write(formatTable(rows));
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
