/**
 * MigrationsHash (cfn/lib/migrations.ts): the value that makes CloudFormation
 * re-run the schema migration exactly when a migration file changes. The Python
 * side (lambda/migrations_hash.py) must compute the same value.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MIGRATIONS_DIR, MigrationFile, migrationsHash, readMigrationFiles } from '../../cfn/lib/migrations';

const PYTHON_SCRIPT = path.join(__dirname, '..', '..', 'lambda', 'migrations_hash.py');
const havePython = fs.existsSync(PYTHON_SCRIPT) && spawnSync('python3', ['--version']).status === 0;
const pythonTest = havePython ? test : test.skip;
if (!havePython) {
  // Visible in the jest output next to the skipped tests.
  console.warn(`SKIPPED: the TS/Python MigrationsHash parity tests need python3 and ${path.relative(process.cwd(), PYTHON_SCRIPT)}, which is not there yet`);
}

const pythonHash = (dir?: string): string => {
  const res = spawnSync('python3', [PYTHON_SCRIPT, ...(dir === undefined ? [] : [dir])], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`migrations_hash.py failed (${res.status}): ${res.stderr}`);
  return res.stdout.trim();
};

/** The algorithm restated as one buffer: name, NUL, content, NUL for each file in code-point order of names. */
const expectedHash = (files: ReadonlyArray<[string, Buffer]>): string =>
  createHash('sha256')
    .update(Buffer.concat(files.flatMap(([name, content]) => [Buffer.from(name, 'utf8'), Buffer.from([0]), content, Buffer.from([0])])))
    .digest('hex');

const file = (name: string, content: string | Buffer): MigrationFile => ({ name, content: typeof content === 'string' ? Buffer.from(content, 'utf8') : content });

describe('migrationsHash', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tap-migrations-'));
    fs.writeFileSync(path.join(dir, '002_add_index.sql'), 'CREATE INDEX i ON t (c);\r\n'); // CRLF kept as is
    fs.writeFileSync(path.join(dir, '001_create.sql'), 'CREATE TABLE t (c INT);\n');
    fs.writeFileSync(path.join(dir, '010_binary.sql'), Buffer.from([0xff, 0x00, 0xfe]));
    fs.writeFileSync(path.join(dir, 'README.md'), 'not a migration');
    fs.mkdirSync(path.join(dir, 'nested.sql')); // a directory, not a file
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('GIVEN a fixture directory WHEN read and hashed THEN only *.sql files count, sorted by name, raw bytes', () => {
    expect(readMigrationFiles(dir).map((f) => f.name).sort()).toEqual(['001_create.sql', '002_add_index.sql', '010_binary.sql']);
    expect(migrationsHash(readMigrationFiles(dir))).toBe(
      expectedHash([
        ['001_create.sql', Buffer.from('CREATE TABLE t (c INT);\n')],
        ['002_add_index.sql', Buffer.from('CREATE INDEX i ON t (c);\r\n')],
        ['010_binary.sql', Buffer.from([0xff, 0x00, 0xfe])],
      ]),
    );
  });

  test('GIVEN the same files in another order WHEN hashed THEN the hash is the same', () => {
    const files = [file('b.sql', 'B'), file('a.sql', 'A'), file('c.sql', 'C')];
    expect(migrationsHash(files)).toBe(migrationsHash([...files].reverse()));
  });

  test.each([
    ['a content byte', [file('001_a.sql', 'SELECT 2;')]],
    ['a file name', [file('001_b.sql', 'SELECT 1;')]],
    ['an added file', [file('001_a.sql', 'SELECT 1;'), file('002_b.sql', '')]],
    ['where the name ends and the content begins', [file('001_a.sqlS', 'ELECT 1;')]],
  ])('GIVEN migrations differing by %s WHEN hashed THEN the hash differs', (_what, changed) => {
    expect(migrationsHash(changed)).not.toBe(migrationsHash([file('001_a.sql', 'SELECT 1;')]));
  });

  test('GIVEN names beyond U+FFFF WHEN sorted THEN the order is by code point like Python, not by UTF-16 unit', () => {
    // U+FF5E sorts before U+1F600 by code point, after it by UTF-16 code unit (0xD83D).
    const files = [file('\u{1F600}.sql', 'x'), file('\uFF5E.sql', 'y')];
    expect(migrationsHash(files)).toBe(expectedHash([['\uFF5E.sql', Buffer.from('y')], ['\u{1F600}.sql', Buffer.from('x')]]));
  });

  test('GIVEN no migration files WHEN hashed THEN it is the SHA-256 of nothing', () => {
    expect(migrationsHash([file('notes.txt', 'x')])).toBe(createHash('sha256').digest('hex'));
  });

  pythonTest('GIVEN lambda/migrations WHEN hashed by TypeScript and by lambda/migrations_hash.py THEN both agree', () => {
    expect(migrationsHash(readMigrationFiles(MIGRATIONS_DIR))).toBe(pythonHash());
  });

  pythonTest('GIVEN the fixture directory WHEN hashed by TypeScript and by lambda/migrations_hash.py THEN both agree', () => {
    expect(migrationsHash(readMigrationFiles(dir))).toBe(pythonHash(dir));
  });
});
