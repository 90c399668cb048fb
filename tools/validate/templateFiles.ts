/**
 * The external checkers (cfn-lint, cfn-guard) read files, and one process per
 * run is what keeps them fast: every set of templates is written to its own
 * folder of one temporary directory, and each file maps back to its set.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { JsonObject, renderTemplate } from '../../cfn/lib/template';

/** Where a written file came from: the index of its set and the template's name. */
export interface TemplateFileSite {
  readonly set: number;
  readonly template: string;
}

/**
 * Writes each set's templates to `<tmp>/<set index>/<name>.json`, calls `run`
 * with file path -> site, and removes the directory afterwards.
 */
export function withTemplateFiles<T>(
  prefix: string,
  sets: ReadonlyArray<ReadonlyMap<string, JsonObject>>,
  run: (files: ReadonlyMap<string, TemplateFileSite>) => T,
): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  try {
    const files = new Map<string, TemplateFileSite>();
    sets.forEach((templates, i) => {
      const setDir = path.join(dir, String(i));
      fs.mkdirSync(setDir);
      for (const [name, t] of templates) {
        const file = path.join(setDir, `${name}.json`);
        fs.writeFileSync(file, renderTemplate(t));
        files.set(file, { set: i, template: name });
      }
    });
    return run(files);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
