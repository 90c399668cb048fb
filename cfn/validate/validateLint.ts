/**
 * cfn-lint, AWS's own template linter (Python). Zero errors and zero warnings
 * on every template for every deployment region; informational findings are
 * reported too, so they are read.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { JsonObject, renderTemplate } from '../lib/template';
import { Finding } from './types';
import { DEPLOYMENT_REGIONS } from '../lib/regions';

interface LintMatch {
  Rule: { Id: string };
  Level: string;
  Message: string;
  Location: { Path?: Array<string | number>; Start?: { LineNumber: number } };
  Filename: string;
}

export const CFN_LINT_COMMAND = process.env.CFN_LINT ?? 'cfn-lint';

/** Lints templates given as JSON; returns one finding per cfn-lint match. */
export function validateLint(templates: ReadonlyMap<string, JsonObject>, regions: readonly string[] = DEPLOYMENT_REGIONS): Finding[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tap-lint-'));
  try {
    const files = [...templates].map(([name, t]) => {
      const file = path.join(dir, `${name}.json`);
      fs.writeFileSync(file, renderTemplate(t));
      return file;
    });
    return runCfnLint(files, regions).map((m) => ({
      check: `cfn-lint ${m.Rule.Id}`,
      template: path.basename(m.Filename, '.json'),
      path: (m.Location.Path ?? []).join('/'),
      message: `${m.Level}: ${m.Message}`,
    }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs cfn-lint with JSON output; throws a readable error if it cannot run. */
export function runCfnLint(files: readonly string[], regions: readonly string[]): LintMatch[] {
  const res = spawnSync(CFN_LINT_COMMAND, ['--format', 'json', '--regions', ...regions, '--', ...files], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.error !== undefined) {
    throw new Error(`cannot run ${CFN_LINT_COMMAND} (${res.error.message}); install it with: python3 -m pip install -r requirements-dev.txt`);
  }
  // cfn-lint exits with a bit mask of the levels it found (2 error, 4 warning, 8 info); 1 is a crash.
  if (res.status === 1 || (res.stdout.trim() === '' && res.status !== 0)) {
    throw new Error(`cfn-lint failed (exit ${res.status}): ${res.stderr.trim() || res.stdout.trim()}`);
  }
  return res.stdout.trim() === '' ? [] : (JSON.parse(res.stdout) as LintMatch[]);
}
