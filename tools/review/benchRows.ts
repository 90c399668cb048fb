/**
 * Pure pieces of `npm run bench` (tools/cli/bench.ts): the rows it prints for
 * template sizes, critical paths and the validator benchmark, and the table.
 */
import { ROOT_TEMPLATE_NAME } from '../../cfn/stacks';
import { NESTED_TEMPLATE_MAX_BYTES, ROOT_TEMPLATE_MAX_BYTES } from '../validate/validateSize';
import { DeploymentPlan, formatDuration, verdict } from './deploymentPlan';

export interface Row {
  readonly metric: string;
  readonly value: string;
  readonly note: string;
}

const bytes = (n: number): string => `${n.toLocaleString('en-US')} B`;

/** One row per template: its size against the limit that applies (root: TemplateBody; nested: TemplateURL). */
export function sizeRows(files: ReadonlyMap<string, string>, rootName: string = ROOT_TEMPLATE_NAME): Row[] {
  return [...files].map(([name, body]) => {
    const size = Buffer.byteLength(body, 'utf8');
    const limit = name === rootName ? ROOT_TEMPLATE_MAX_BYTES : NESTED_TEMPLATE_MAX_BYTES;
    const what = name === rootName ? 'StackSet TemplateBody limit' : 'nested template limit';
    return { metric: `template ${name}`, value: bytes(size), note: `${((100 * size) / limit).toFixed(1)}% of the ${bytes(limit)} ${what}` };
  });
}

export function planRows(plan: DeploymentPlan): Row[] {
  return plan.scenarios.map((s) => ({
    metric: `critical path: ${s.title}`,
    value: formatDuration(s.seconds),
    note: `both regions in one StackSet operation, estimated (range ${formatDuration(s.range[0])} - ${formatDuration(s.range[1])}); ${verdict(s)}`,
  }));
}

export interface ProcessResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the process could not start (python3 missing). */
  readonly error?: string;
}

/** Rows from `python3 lambda/bench.py --json`: {validations_per_second, aws_calls_per_warm_invocation}, or n/a with the reason. */
export function validatorRows(result: ProcessResult | undefined, command: string): Row[] {
  const na = (reason: string): Row[] => [
    { metric: 'validator throughput', value: 'n/a', note: reason },
    { metric: 'AWS calls per warm invocation', value: 'n/a', note: reason },
  ];
  if (result === undefined) return na(`${command}: lambda/bench.py does not exist`);
  if (result.error !== undefined) return na(`${command} could not start: ${result.error}`);
  if (result.status !== 0) return na(`${command} exited ${result.status}: ${lastLine(result.stderr)}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(result.stdout.trim().split('\n').pop() ?? '');
  } catch {
    return na(`${command} printed no JSON object`);
  }
  const o = (parsed ?? {}) as Record<string, unknown>;
  const vps = o.validations_per_second;
  const calls = o.aws_calls_per_warm_invocation;
  if (typeof vps !== 'number' || typeof calls !== 'number') {
    return na(`${command} printed no validations_per_second / aws_calls_per_warm_invocation numbers`);
  }
  return [
    { metric: 'validator throughput', value: `${Math.round(vps).toLocaleString('en-US')} validations/s`, note: `${command}: pure validation path, in process` },
    { metric: 'AWS calls per warm invocation', value: String(calls), note: `${command}: warm container, AWS answered in process` },
  ];
}

/** Rows from `python3 lambda/hardening_bench.py --json`: card numbers found, reused ids answered 409, worst answer under faults. */
export function hardeningRows(result: ProcessResult | undefined, command: string): Row[] {
  const metrics = ['inputs generated and tried', 'card numbers found (responses, logs, DB rows, audit objects)', 'reused ids with a changed body answered 409', 'worst validator answer under faults'];
  const na = (reason: string): Row[] => metrics.map((metric) => ({ metric, value: 'n/a', note: reason }));
  if (result === undefined) return na(`${command}: lambda/hardening_bench.py does not exist`);
  if (result.error !== undefined) return na(`${command} could not start: ${result.error}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(result.stdout.trim().split('\n').pop() ?? '');
  } catch {
    return na(result.status !== 0 ? `${command} exited ${result.status}: ${lastLine(result.stderr)}` : `${command} printed no JSON object`);
  }
  const o = (parsed ?? {}) as Record<string, unknown>;
  const { inputs_tried: tried, card_numbers_found: found, answered_409: conflicts, reused_ids_with_changed_body: reused } = o;
  const { worst_answer_seconds: worst, function_timeout_seconds: timeout, fault_scenarios: scenarios, worst_scenario: which, database } = o;
  if (typeof tried !== 'number' || typeof found !== 'number' || typeof conflicts !== 'number' || typeof reused !== 'number') {
    return na(`${command} printed no inputs_tried / card_numbers_found / answered_409 numbers`);
  }
  const verdict = result.status === 0 ? 'ok' : 'FAILED';
  return [
    { metric: metrics[0], value: String(tried), note: `${command}: seeded; half with a card number outside cardNumber; database: ${String(database)}` },
    { metric: metrics[1], value: String(found), note: `must be 0 (${verdict})` },
    { metric: metrics[2], value: `${conflicts}/${reused}`, note: 'must be all' },
    typeof worst === 'number' && typeof timeout === 'number'
      ? { metric: metrics[3], value: `${worst.toFixed(2)} s of ${timeout} s`, note: `${String(scenarios)} loopback fault scenarios; worst: ${String(which)} (${verdict})` }
      : { metric: metrics[3], value: 'n/a', note: `${command}: no fault run` },
  ];
}

const lastLine = (s: string): string => s.trim().split('\n').pop() ?? '';

/** A Markdown table, padded for the terminal. */
export function formatTable(rows: readonly Row[]): string {
  const header: Row = { metric: 'Metric', value: 'Value', note: 'Note' };
  const all = [header, ...rows];
  const w = (k: keyof Row): number => Math.max(...all.map((r) => r[k].length));
  const line = (r: Row): string => `| ${r.metric.padEnd(w('metric'))} | ${r.value.padEnd(w('value'))} | ${r.note.padEnd(w('note'))} |`;
  const rule = `| ${'-'.repeat(w('metric'))} | ${'-'.repeat(w('value'))} | ${'-'.repeat(w('note'))} |`;
  return `${[line(header), rule, ...rows.map(line)].join('\n')}\n`;
}
