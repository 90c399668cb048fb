/**
 * The MigrationsHash of the schema-migration custom resource: it changes exactly
 * when a migration file changes, so CloudFormation sends the migration function
 * an Update exactly then. lambda/tap/migration_files.py implements the same
 * algorithm (and `python3 lambda/migrations_hash.py` prints it); a test keeps
 * the two equal:
 *
 *   h = sha256()
 *   for each *.sql file, sorted by file name:
 *     h.update(name as UTF-8) ; h.update(b"\0") ; h.update(raw content) ; h.update(b"\0")
 *   hex digest
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

export interface MigrationFile {
  /** Base name, for example `001_create_merchants.sql`. */
  readonly name: string;
  /** Raw bytes: no newline or encoding normalisation. */
  readonly content: Uint8Array;
}

export const MIGRATIONS_DIR = path.join(__dirname, '..', '..', 'lambda', 'migrations');

const isMigrationName = (name: string): boolean => name.endsWith('.sql');

/**
 * Python sorts file names by code point; JavaScript's default sort compares
 * UTF-16 code units, which differs above U+FFFF. UTF-8 byte order equals code
 * point order, so compare the encoded names.
 */
const byCodePoint = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** Pure: the hash of the given files (any order; non-.sql names are ignored like the glob does). */
export function migrationsHash(files: readonly MigrationFile[]): string {
  const h = createHash('sha256');
  const sorted = files.filter((f) => isMigrationName(f.name)).sort((a, b) => byCodePoint(a.name, b.name));
  for (const f of sorted) {
    h.update(Buffer.from(f.name, 'utf8'));
    h.update(Buffer.from([0]));
    h.update(f.content);
    h.update(Buffer.from([0]));
  }
  return h.digest('hex');
}

/** The `*.sql` regular files of `dir` (symlinks followed and broken ones skipped, as Path.is_file does). */
export function readMigrationFiles(dir: string = MIGRATIONS_DIR): MigrationFile[] {
  return fs
    .readdirSync(dir)
    .filter((name) => isMigrationName(name) && fs.statSync(path.join(dir, name), { throwIfNoEntry: false })?.isFile() === true)
    .map((name) => ({ name, content: fs.readFileSync(path.join(dir, name)) }));
}
