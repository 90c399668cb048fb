import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { contextFiles, contextHash, dockerignoreMatcher } from '../../components/contextHash';
import { LAMBDA_DIR } from '../../components/lambdaImage';

describe('image tag: .dockerignore semantics', () => {
  const ignored = dockerignoreMatcher('# comment\n**/__pycache__\n**/*.pyc\ntests/\n*.md\n/bench.py\nkeep/*\n!keep/this.txt\n');
  test.each<[string, boolean]>([
    ['validator.py', false],
    ['tap/__pycache__/db.cpython-313.pyc', true],
    ['__pycache__/x.pyc', true],
    ['tap/db.pyc', true],
    ['tests', true],
    ['tests/test_db.py', true],
    ['README.md', true],
    ['tap/README.md', false],
    ['bench.py', true],
    ['tap/bench.py', false],
    ['keep/other.txt', true],
    ['keep/this.txt', false],
    ['Dockerfile', false],
  ])('GIVEN %s WHEN matched THEN ignored is %s', (file, expected) => {
    expect(ignored(file)).toBe(expected);
  });
});

describe('image tag: build context of lambda/', () => {
  test('GIVEN lambda/ after the tests, checks and benchmarks ran WHEN listed THEN it has the Dockerfile and handlers but no tests, caches or docs', () => {
    const files = contextFiles(LAMBDA_DIR);
    expect(files).toEqual(expect.arrayContaining(['Dockerfile', 'requirements.txt', 'validator.py']));
    // Every file of the context is in the image tag: a cache here would give unchanged code a new tag.
    const dotted = files.filter((f) => f.split('/').some((part) => part.startsWith('.') && part !== '.dockerignore'));
    expect(dotted).toEqual([]);
    expect(files.filter((f) => /(^|\/)(tests|__pycache__)(\/|$)|\.pyc$|\.md$/.test(f))).toEqual([]);
  });

  describe('image tag: which changes give a new tag', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tap-context-'));
      fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM scratch\n');
      fs.writeFileSync(path.join(dir, 'app.py'), 'print(1)\n');
      fs.writeFileSync(path.join(dir, '.dockerignore'), 'notes.md\n');
    });

    test('WHEN a file the image contains changes THEN the tag changes', () => {
      const before = contextHash(dir);
      fs.writeFileSync(path.join(dir, 'app.py'), 'print(2)\n');
      expect(contextHash(dir)).not.toBe(before);
    });

    test('WHEN a file is renamed THEN the tag changes', () => {
      const before = contextHash(dir);
      fs.renameSync(path.join(dir, 'app.py'), path.join(dir, 'main.py'));
      expect(contextHash(dir)).not.toBe(before);
    });

    test('WHEN only an ignored file changes THEN the tag stays (no new image for a note)', () => {
      const before = contextHash(dir);
      fs.writeFileSync(path.join(dir, 'notes.md'), 'hello\n');
      expect(contextHash(dir)).toBe(before);
    });
  });
});
