/** Fixture helpers for the validation tests. */
import * as fs from 'fs';
import * as path from 'path';
import { JsonObject } from '../../../cfn/lib/template';
import { Finding } from '../../../tools/validate/types';

export const FIXTURES_DIR = path.join(__dirname, '..', '..', 'fixtures');

/** A JSON fixture from tests/fixtures/<relative>. */
export const fixture = (relative: string): JsonObject => JSON.parse(fs.readFileSync(path.join(FIXTURES_DIR, relative), 'utf8')) as JsonObject;

/** A deep copy changed by `edit`, so each case breaks one thing of a shared baseline. */
export function variant(base: JsonObject, edit: (t: JsonObject & { Resources: Record<string, JsonObject & { Properties: JsonObject }> }) => void): JsonObject {
  const copy = JSON.parse(JSON.stringify(base)) as JsonObject & { Resources: Record<string, JsonObject & { Properties: JsonObject }> };
  edit(copy);
  return copy;
}

/** A template with the given resources (and optionally more sections). */
export const templateWith = (resources: Record<string, unknown>, extra: Record<string, unknown> = {}): JsonObject =>
  ({ AWSTemplateFormatVersion: '2010-09-09', Description: 'fixture', ...extra, Resources: resources }) as JsonObject;

/** Findings as short, diffable strings: `check template path: message`. */
export const brief = (findings: readonly Finding[]): string[] => findings.map((f) => `${f.check} ${f.template} ${f.path}: ${f.message}`);
