/**
 * Content hash of a Docker build context: the image tag. ECR tags are
 * immutable, so every content change needs a new tag, and unchanged content
 * must keep its tag (no rebuild, no new digest, no StackSet update).
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/**
 * A .dockerignore pattern as a regular expression over slash-separated paths
 * relative to the context (https://docs.docker.com/build/concepts/context/#dockerignore-files):
 * `*` and `?` stay within one path segment, `**` spans any number of them, and a
 * pattern that matches a directory excludes everything below it.
 */
export function dockerignorePattern(pattern: string): RegExp {
  const trimmed = pattern.trim().replace(/^\/+/, '').replace(/\/+$/, '');
  let source = '';
  for (let i = 0; i < trimmed.length; i++) {
    const c = trimmed[i];
    if (c === '*' && trimmed[i + 1] === '*') {
      const slash = trimmed[i + 2] === '/';
      source += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}(?:/.*)?$`);
}

/** Parsed .dockerignore: later lines win, `!` re-includes. */
export function dockerignoreMatcher(text: string): (relativePath: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => (l.startsWith('!') ? { include: true, re: dockerignorePattern(l.slice(1)) } : { include: false, re: dockerignorePattern(l) }));
  return (relativePath) => {
    let ignored = false;
    for (const rule of rules) if (rule.re.test(relativePath)) ignored = !rule.include;
    return ignored;
  };
}

/** Files of `dir` that Docker sends as build context, relative and sorted. The Dockerfile is always sent. */
export function contextFiles(dir: string): string[] {
  const ignoreFile = path.join(dir, '.dockerignore');
  const ignored = fs.existsSync(ignoreFile) ? dockerignoreMatcher(fs.readFileSync(ignoreFile, 'utf8')) : () => false;
  const walk = (rel: string): string[] =>
    fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
      const child = rel === '' ? e.name : `${rel}/${e.name}`;
      if (ignored(child) && child !== 'Dockerfile') return [];
      if (e.isDirectory()) return walk(child);
      return e.isFile() ? [child] : [];
    });
  return walk('').sort();
}

/** sha256 over every context file's path and bytes. */
export function contextHash(dir: string): string {
  const hash = crypto.createHash('sha256');
  for (const file of contextFiles(dir)) {
    hash.update(file).update('\0').update(fs.readFileSync(path.join(dir, file))).update('\0');
  }
  return hash.digest('hex');
}
