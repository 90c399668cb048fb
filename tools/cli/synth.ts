/**
 * `npm run synth`: generate every template, validate, write cfn/templates/ and
 * print a summary. Exits 1, naming the check, template and location, when any
 * validation fails; then nothing is written.
 */
import * as fs from 'fs';
import * as path from 'path';
import { synthesize, renderAll, TEMPLATES_DIR } from '../../cfn/build';
import { validateAll, guardSuppressionSummary } from '../validate';
import { formatFinding } from '../validate/types';
import { summarize } from '../review/summary';
import { writeReviewDocs } from '../review/docs';

function main(argv: readonly string[]): number {
  const skipLint = argv.includes('--no-lint');
  const skipGuard = argv.includes('--no-guard');
  const templates = synthesize();
  const findings = validateAll(templates, { lint: !skipLint, guard: !skipGuard });
  process.stdout.write(summarize(templates));
  if (findings.length > 0) {
    process.stderr.write(`\nsynth: ${findings.length} validation finding(s); templates NOT written:\n`);
    for (const f of findings) process.stderr.write(`  ${formatFinding(f)}\n`);
    return 1;
  }
  // Every Control Tower exception, with its reason, on every synth (validation has proven each still matches a failure).
  process.stdout.write(`\n${skipGuard ? 'guard suppressions: not checked (--no-guard)\n' : guardSuppressionSummary(templates)}`);
  writeTemplates(renderAll(templates));
  process.stdout.write(`\nwrote ${templates.size} templates to ${path.relative(process.cwd(), TEMPLATES_DIR)}/\n`);
  // Generated docs (diagram, deployment plan) follow the templates they describe.
  process.stdout.write(`wrote ${writeReviewDocs(templates).join(', ')}\n`);
  return 0;
}

/** Writes every template and removes JSON files that are no longer generated. */
function writeTemplates(files: ReadonlyMap<string, string>): void {
  fs.mkdirSync(TEMPLATES_DIR, { recursive: true });
  for (const f of fs.readdirSync(TEMPLATES_DIR)) {
    if (f.endsWith('.json') && !files.has(path.basename(f, '.json'))) fs.rmSync(path.join(TEMPLATES_DIR, f));
  }
  for (const [name, body] of files) {
    const file = path.join(TEMPLATES_DIR, `${name}.json`);
    if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== body) fs.writeFileSync(file, body);
  }
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`synth failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
