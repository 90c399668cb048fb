/**
 * The generated documents synth keeps next to the templates: the architecture
 * diagram and the deployment plan. `reviewDocs` is pure (tests compare it with
 * the files); `writeReviewDocs` is the one call synth makes.
 */
import * as fs from 'fs';
import * as path from 'path';
import { JsonObject } from '../../cfn/lib/template';
import { renderArchitecture } from './diagram';
import { deploymentPlan, renderPlanMarkdown } from './deploymentPlan';

export const DOCS_DIR = path.join(__dirname, '..', '..', 'docs');

/** docs/<file> -> content. */
export function reviewDocs(templates: ReadonlyMap<string, JsonObject>): Map<string, string> {
  return new Map([
    ['architecture.md', renderArchitecture(templates)],
    ['deployment-plan.md', renderPlanMarkdown(deploymentPlan(templates))],
  ]);
}

/** Writes the documents that changed; returns their paths relative to the repository. */
export function writeReviewDocs(templates: ReadonlyMap<string, JsonObject>): string[] {
  fs.mkdirSync(DOCS_DIR, { recursive: true });
  const written: string[] = [];
  for (const [file, body] of reviewDocs(templates)) {
    const target = path.join(DOCS_DIR, file);
    if (!fs.existsSync(target) || fs.readFileSync(target, 'utf8') !== body) fs.writeFileSync(target, body);
    written.push(`docs/${file}`);
  }
  return written;
}
