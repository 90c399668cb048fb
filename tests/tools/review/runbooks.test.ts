import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..', '..');

function markdownFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? markdownFiles(p) : e.name.endsWith('.md') ? [p] : [];
  });
}

const docs = [path.join(ROOT, 'README.md'), ...markdownFiles(path.join(ROOT, 'docs'))].filter((f) => fs.existsSync(f));
const text = docs.map((f) => fs.readFileSync(f, 'utf8')).join('\n');

/** `aws <service> <operation> [<waiter>]` as written in the docs. */
const awsCommands = [...new Set([...text.matchAll(/\baws ([a-z0-9-]+) ([a-z0-9-]+)(?: ([a-z0-9-]+))?/g)].map((m) => (m[2] === 'wait' ? `${m[1]} wait ${m[3]}` : `${m[1]} ${m[2]}`)))].sort();

/** High-level `aws s3` commands (awscli customizations, not API operations). */
const S3_COMMANDS = ['cp', 'ls', 'mb', 'mv', 'presign', 'rb', 'rm', 'sync', 'website'];
/** CLI service names that differ from botocore's. */
const SERVICE_ALIASES: Record<string, string> = { s3api: 's3', configservice: 'config' };

/**
 * Real `pulumi` commands (https://www.pulumi.com/docs/iac/cli/commands/): the
 * top level and the subcommands of `stack` and `config` (the CLI is not installed here).
 */
const PULUMI: Record<string, readonly string[] | true> = {
  up: true,
  preview: true,
  destroy: true,
  refresh: true,
  cancel: true,
  import: true,
  login: true,
  whoami: true,
  state: true,
  stack: ['output', 'select', 'init', 'ls', 'rm', 'export', 'import', 'history', 'tag', 'rename', 'graph', 'unselect'],
  config: ['set', 'get', 'rm', 'cp', 'refresh', 'set-all', 'rm-all'],
};

describe('commands named in the README and docs', () => {
  test('GIVEN every `aws <service> <operation>` WHEN checked against the AWS CLI service models THEN each exists', () => {
    expect(awsCommands.length).toBeGreaterThan(0);
    const pairs = awsCommands.filter((c) => !(c.startsWith('s3 ') && S3_COMMANDS.includes(c.split(' ')[1])));
    const check = `
import json, sys, botocore.session
from botocore import xform_name
s = botocore.session.get_session()
aliases = json.loads(sys.argv[1])
missing = []
for cmd in json.loads(sys.stdin.read()):
    parts = cmd.split(' ')
    service = aliases.get(parts[0], parts[0])
    try:
        model = s.get_service_model(service)
    except Exception:
        missing.append(cmd + ' (no such service)'); continue
    if parts[1] == 'wait':
        waiters = [xform_name(w, '-') for w in s.get_waiter_model(service).waiter_names]
        if parts[2] not in waiters: missing.append(cmd)
    elif parts[1] not in [xform_name(o, '-') for o in model.operation_names]:
        missing.append(cmd)
print(json.dumps(missing))
`;
    const r = spawnSync('python3', ['-c', check, JSON.stringify(SERVICE_ALIASES)], { input: JSON.stringify(pairs), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([]);
  });

  test('GIVEN every `pulumi <command>` WHEN checked THEN it is a real Pulumi CLI command', () => {
    const used = [...new Set([...text.matchAll(/\bpulumi ([a-z-]+)(?: ([a-z-]+))?/g)].map((m) => [m[1], m[2] ?? ''].join(' ').trim()))].sort();
    const unknown = used.filter((u) => {
      const [cmd, sub] = u.split(' ');
      const known = PULUMI[cmd];
      return known === undefined || (Array.isArray(known) && !known.includes(sub));
    });
    expect(unknown).toEqual([]);
  });
});
