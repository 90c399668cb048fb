import { formatTable, hardeningRows, sizeRows, validatorRows } from '../../../tools/review/benchRows';
import { NESTED_TEMPLATE_MAX_BYTES, ROOT_TEMPLATE_MAX_BYTES } from '../../../tools/validate/validateSize';

const COMMAND = 'python3 lambda/bench.py --json';

describe('bench rows', () => {
  test('GIVEN templates WHEN sized THEN the root is measured against the TemplateBody limit and nested ones against 1 MB', () => {
    const rows = sizeRows(new Map([['TapStack', 'x'.repeat(512)], ['NetworkStack', 'é'.repeat(500)]]), 'TapStack');
    expect(rows).toEqual([
      { metric: 'template TapStack', value: '512 B', note: `${((100 * 512) / ROOT_TEMPLATE_MAX_BYTES).toFixed(1)}% of the 51,200 B StackSet TemplateBody limit` },
      { metric: 'template NetworkStack', value: '1,000 B', note: `${((100 * 1000) / NESTED_TEMPLATE_MAX_BYTES).toFixed(1)}% of the 1,000,000 B nested template limit` },
    ]);
  });

  test.each([
    { situation: 'a missing script', result: undefined, reason: /does not exist/ },
    { situation: 'python3 missing', result: { status: null, stdout: '', stderr: '', error: 'spawnSync python3 ENOENT' }, reason: /could not start: spawnSync python3 ENOENT/ },
    { situation: 'a failing script', result: { status: 1, stdout: '', stderr: 'Traceback\nImportError: boom' }, reason: /exited 1: ImportError: boom/ },
    { situation: 'output that is not JSON', result: { status: 0, stdout: 'fast!', stderr: '' }, reason: /printed no JSON object/ },
    { situation: 'JSON without the fields', result: { status: 0, stdout: '{"x": 1}', stderr: '' }, reason: /no validations_per_second/ },
  ])('GIVEN $situation WHEN the validator benchmark is read THEN both rows are n/a with the reason', ({ result, reason }) => {
    const rows = validatorRows(result, COMMAND);
    expect(rows.map((r) => r.value)).toEqual(['n/a', 'n/a']);
    for (const r of rows) expect(r.note).toMatch(reason);
  });

  test('GIVEN the benchmark JSON WHEN read THEN throughput and AWS calls are reported', () => {
    const rows = validatorRows({ status: 0, stdout: '{"validations_per_second": 26175.3, "aws_calls_per_warm_invocation": 2.0}\n', stderr: '' }, COMMAND);
    expect(rows.map((r) => [r.metric, r.value])).toEqual([
      ['validator throughput', '26,175 validations/s'],
      ['AWS calls per warm invocation', '2'],
    ]);
  });

  test('GIVEN the hardening JSON WHEN read THEN inputs, card numbers found, 409s and the worst answer time are reported', () => {
    const stdout = JSON.stringify({
      database: 'MariaDB/MySQL at 127.0.0.1:3306',
      inputs_tried: 400,
      card_numbers_found: 0,
      reused_ids_with_changed_body: 200,
      answered_409: 200,
      worst_answer_seconds: 7.4,
      function_timeout_seconds: 10,
      fault_scenarios: 36,
      worst_scenario: 'database hangs (warm)',
    });
    const rows = hardeningRows({ status: 0, stdout: `${stdout}\n`, stderr: '' }, 'python3 lambda/hardening_bench.py --json');
    expect(rows.map((r) => r.value)).toEqual(['400', '0', '200/200', '7.40 s of 10 s']);
    expect(rows[3].note).toMatch(/36 loopback fault scenarios; worst: database hangs \(warm\) \(ok\)/);
  });

  test.each([
    { situation: 'a missing script', result: undefined, reason: /does not exist/ },
    { situation: 'a crash', result: { status: 1, stdout: '', stderr: 'Traceback\nImportError: boom' }, reason: /exited 1: ImportError: boom/ },
    { situation: 'JSON without the fields', result: { status: 0, stdout: '{"x": 1}', stderr: '' }, reason: /no inputs_tried/ },
  ])('GIVEN $situation WHEN the hardening benchmark is read THEN its rows are n/a with the reason', ({ result, reason }) => {
    const rows = hardeningRows(result, 'python3 lambda/hardening_bench.py --json');
    expect(rows.map((r) => r.value)).toEqual(['n/a', 'n/a', 'n/a', 'n/a']);
    for (const r of rows) expect(r.note).toMatch(reason);
  });

  test('GIVEN rows WHEN formatted THEN one aligned Markdown table comes out', () => {
    const lines = formatTable([{ metric: 'a', value: 'bbbbbbb', note: 'c' }]).trimEnd().split('\n');
    expect(lines).toEqual(['| Metric | Value   | Note |', '| ------ | ------- | ---- |', '| a      | bbbbbbb | c    |']);
  });
});
