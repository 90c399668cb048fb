/**
 * Pure synthesis: every template as canonical JSON, the root last (it derives
 * its parameters and wiring from the nested templates).
 */
import { JsonObject, renderTemplate } from './lib/template';
import { NESTED_STACKS, ROOT_TEMPLATE_NAME } from './stacks';
export { TEMPLATES_DIR } from './contract/layout';
import { buildRoot } from './stacks/root';
import { migrationsHash, readMigrationFiles } from './lib/migrations';

/** name -> template, nested stacks first, then TapStack (whose MigrationsHash is read from lambda/migrations). */
export function synthesize(): Map<string, JsonObject> {
  const nested = new Map<string, JsonObject>();
  for (const def of NESTED_STACKS) nested.set(def.templateName, def.build().toJSON());
  const all = new Map(nested);
  all.set(ROOT_TEMPLATE_NAME, buildRoot(nested, { migrationsHash: migrationsHash(readMigrationFiles()) }).toJSON());
  return all;
}

/** name -> exact file bytes. */
export function renderAll(templates: ReadonlyMap<string, JsonObject>): Map<string, string> {
  return new Map([...templates].map(([name, t]) => [name, renderTemplate(t)]));
}
