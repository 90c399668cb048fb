import { JsonObject } from '../../../cfn/lib/template';
import { ancestors as ancestorsIn, deploymentWaves, referencedIds, resourceGraph } from '../../../cfn/lib/graph';
import { ROOT_TEMPLATE_NAME } from '../../../cfn/stacks';
import {
  bakeOf,
  deploymentPlan,
  formatPlan,
  ganttChart,
  GATE_ID,
  IMAGE_PARAMETER,
  longestPath,
  MIGRATION_ID,
  nestedStackEstimate,
  renderPlanMarkdown,
  SCENARIOS,
  ScenarioPlan,
  verdict,
  GATE_WAIT,
  formatDuration,
  levers,
} from '../../../tools/review/deploymentPlan';
import { OVERHEADS, RESOURCE_TIMINGS, timingFor } from '../../../tools/review/timings';
import { METRIC_PUBLISH_DELAY_SECONDS, REGION_PREREQUISITES } from '../../../cfn/stacks/root';
import { MonitoringParameters } from '../../../cfn/stacks/monitoring/parameters';
import { template, templates } from '../../support/assertions';

const graph = (edges: Record<string, string[]>): Map<string, Set<string>> => new Map(Object.entries(edges).map(([k, v]) => [k, new Set(v)]));
const must = <T>(value: T | undefined, what: string): T => {
  if (value === undefined) throw new Error(`missing ${what}`);
  return value;
};
const scenario = (key: string) => must(SCENARIOS.find((s) => s.key === key), `scenario ${key}`);

describe('longestPath', () => {
  test.each<{ name: string; edges: Record<string, string[]>; weights: Record<string, number>; seconds: number; path: string[] }>([
    { name: 'a chain', edges: { a: [], b: ['a'], c: ['b'] }, weights: { a: 1, b: 2, c: 3 }, seconds: 6, path: ['a', 'b', 'c'] },
    { name: 'a diamond', edges: { a: [], b: ['a'], c: ['a'], d: ['b', 'c'] }, weights: { a: 1, b: 5, c: 2, d: 1 }, seconds: 7, path: ['a', 'b', 'd'] },
    { name: 'parallel roots', edges: { a: [], b: [], c: ['a'] }, weights: { a: 1, b: 9, c: 1 }, seconds: 9, path: ['b'] },
    { name: 'a tie', edges: { a: [], b: [] }, weights: { a: 2, b: 2 }, seconds: 2, path: ['a'] },
    { name: 'a dependency outside the graph', edges: { a: ['zzz'] }, weights: { a: 4 }, seconds: 4, path: ['a'] },
  ])('GIVEN $name WHEN measured THEN the longest path is $path', ({ edges, weights, seconds, path }) => {
    expect(longestPath(graph(edges), (id) => weights[id] ?? 0)).toEqual({ seconds, path });
  });

  test('GIVEN a cycle WHEN measured THEN it throws naming a node of it', () => {
    expect(() => longestPath(graph({ a: ['b'], b: ['a'] }), () => 1)).toThrow(/dependency cycle through/);
  });
});

describe('nested stack estimate', () => {
  const t: JsonObject = {
    Resources: {
      Key: { Type: 'AWS::KMS::Key' },
      Vpc: { Type: 'AWS::EC2::VPC' },
      Subnet: { Type: 'AWS::EC2::Subnet', Properties: { VpcId: { Ref: 'Vpc' } } },
      Fn: { Type: 'AWS::Lambda::Function', Properties: { KmsKeyArn: { 'Fn::GetAtt': ['Key', 'Arn'] }, Code: { ImageUri: { Ref: IMAGE_PARAMETER } } } },
    },
  };
  const create = (type: string): number => RESOURCE_TIMINGS[type].createSeconds;

  test('GIVEN a template WHEN created THEN the estimate is the overhead plus its longest chain', () => {
    const e = nestedStackEstimate('S', t, scenario('first-deployment'));
    const chains = [create('AWS::KMS::Key') + timingFor('AWS::Lambda::Function', {}).createSeconds, create('AWS::EC2::VPC') + create('AWS::EC2::Subnet')];
    expect(e.seconds).toBe(OVERHEADS.nestedStack.seconds + Math.max(...chains));
    expect(e.chain.reduce((sum, c) => sum + c.seconds, 0)).toBe(Math.max(...chains));
  });

  test('GIVEN a new image WHEN updated THEN only the function that references ImageUri counts', () => {
    const e = nestedStackEstimate('S', t, scenario('image-update'));
    expect(e.chain.map((c) => c.id)).toEqual(['Fn']);
    expect(e.seconds).toBe(OVERHEADS.nestedStack.seconds + timingFor('AWS::Lambda::Function', {}).updateSeconds);
  });

  test('GIVEN a template nothing in the scenario touches WHEN updated THEN it costs the no-op update', () => {
    expect(nestedStackEstimate('S', t, scenario('schema-migration'))).toEqual({ name: 'S', seconds: OVERHEADS.unchangedNestedStack.seconds, changed: false, chain: [] });
  });

  test('GIVEN a primary-only resource WHEN estimated for the secondary region THEN it is not counted there', () => {
    const withWait: JsonObject = { Resources: { ...(t.Resources as JsonObject), Slow: { Type: 'AWS::DynamoDB::GlobalTable', Condition: 'IsPrimaryRegion' } } };
    const primary = nestedStackEstimate('S', withWait, scenario('first-deployment'), 'primary');
    const secondary = nestedStackEstimate('S', withWait, scenario('first-deployment'), 'secondary');
    expect(primary.chain.map((c) => c.id)).toEqual(['Slow']);
    expect(secondary.chain.map((c) => c.id)).not.toContain('Slow');
  });

  test('GIVEN the fastest and slowest cases WHEN estimated THEN each uses the ends of every row\'s range', () => {
    const fast = nestedStackEstimate('S', t, scenario('first-deployment'), 'primary', 'fastest');
    const slow = nestedStackEstimate('S', t, scenario('first-deployment'), 'primary', 'slowest');
    expect(fast.seconds).toBe(OVERHEADS.nestedStack.range[0] + Math.max(RESOURCE_TIMINGS['AWS::KMS::Key'].createRange[0] + timingFor('AWS::Lambda::Function', {}).createRange[0], RESOURCE_TIMINGS['AWS::EC2::VPC'].createRange[0] + RESOURCE_TIMINGS['AWS::EC2::Subnet'].createRange[0]));
    expect(slow.seconds).toBeGreaterThan(nestedStackEstimate('S', t, scenario('first-deployment')).seconds);
  });
});

describe('deployment plan of the real templates', () => {
  const all = templates();
  const root = template(ROOT_TEMPLATE_NAME);
  const plan = deploymentPlan(all);
  const rootResources = (root.Resources ?? {}) as Record<string, JsonObject>;
  const rootGraph = resourceGraph(root);
  const ancestors = (id: string): Set<string> => ancestorsIn(rootGraph, id);
  const byKey = (key: string): ScenarioPlan => must(plan.scenarios.find((s) => s.key === key), `scenario ${key}`);

  test('GIVEN the root WHEN planned THEN the waves are the root\'s deployment waves, every nested stack and custom resource once', () => {
    expect(plan.waves).toEqual(deploymentWaves(root));
    const units = Object.entries(rootResources)
      .filter(([, r]) => r.Type === 'AWS::CloudFormation::Stack' || String(r.Type).startsWith('Custom::'))
      .map(([id]) => id)
      .sort();
    expect(plan.waves.flat().sort()).toEqual(units);
  });

  test.each(SCENARIOS.map((s) => s.key))('GIVEN %s WHEN estimated THEN the total is the sum of its critical path, and lies in its range', (key) => {
    const s = byKey(key);
    expect(s.path[0].kind).toBe('stack set');
    expect(s.path.reduce((sum, p) => sum + p.seconds, 0)).toBe(s.seconds);
    expect(s.range[0]).toBeLessThanOrEqual(s.seconds);
    expect(s.range[1]).toBeGreaterThanOrEqual(s.seconds);
  });

  test.each(SCENARIOS.filter((s) => s.rollsBack !== true).map((s) => s.key))('GIVEN %s WHEN estimated THEN its critical path is a dependency chain of the root', (key) => {
    // The first gate's wait for the other region's gate is a step after the gate, not a resource of the root.
    const ids = byKey(key).path.slice(1).map((p) => p.id).filter((id) => id !== GATE_WAIT);
    for (let i = 1; i < ids.length; i++) expect({ step: ids[i], waitsFor: ancestors(ids[i]).has(ids[i - 1]) }).toEqual({ step: ids[i], waitsFor: true });
  });

  test.each(SCENARIOS.map((s) => s.key))('GIVEN %s WHEN both regions are modelled together THEN the release takes as long as its slower region, not the sum', (key) => {
    const s = byKey(key);
    expect(s.seconds).toBe(Math.max(s.regionSeconds.primary, s.regionSeconds.secondary));
  });

  test('GIVEN a first deployment WHEN estimated THEN every nested stack is costed by its own longest chain in the primary region', () => {
    for (const st of byKey('first-deployment').stacks) {
      const t = all.get(st.name) as JsonObject;
      const { seconds } = longestPath(resourceGraph(t), (id) => {
        const r = (t.Resources as Record<string, JsonObject>)[id];
        return timingFor(String(r.Type), r.Properties as JsonObject).createSeconds;
      });
      expect({ stack: st.name, seconds: st.seconds }).toEqual({ stack: st.name, seconds: OVERHEADS.nestedStack.seconds + seconds });
    }
  });

  test('GIVEN a first deployment WHEN scheduled THEN the primary\'s wait for the secondary starts no earlier than the secondary\'s StorageStack is complete', () => {
    const s = byKey('first-deployment');
    const wait = must(s.schedule.find((u) => u.id === REGION_PREREQUISITES && u.region === 'primary'), 'the wait');
    const storage = must(s.schedule.find((u) => u.id === 'StorageStack' && u.region === 'secondary'), 'the secondary StorageStack');
    expect(wait.start).toBeGreaterThanOrEqual(storage.end);
    expect(s.schedule.some((u) => u.id === REGION_PREREQUISITES && u.region === 'secondary')).toBe(false);
  });

  test('GIVEN a first deployment WHEN estimated THEN the gate does not bake (Create), and it ends the path', () => {
    const gate = byKey('first-deployment').path.slice(-1)[0];
    expect(gate).toMatchObject({ id: GATE_ID, seconds: OVERHEADS.customResourceRoundTrip.seconds });
  });

  test('GIVEN auto bake WHEN planned THEN the bake is the widest gated alarm window (DatapointsToAlarm x period) plus the metric publishing delay', () => {
    expect(bakeOf(all).seconds).toBe(Number(MonitoringParameters.AlarmDatapointsToAlarm.Default) * 60 + METRIC_PUBLISH_DELAY_SECONDS);
    expect(plan.bake).toEqual(bakeOf(all));
  });

  test('GIVEN a numeric BakeMinutes WHEN planned THEN it overrides the derived bake', () => {
    const fixed = JSON.parse(JSON.stringify(root)) as JsonObject;
    ((fixed.Parameters as Record<string, JsonObject>).BakeMinutes as JsonObject).Default = '1';
    expect(bakeOf(new Map([...all, [ROOT_TEMPLATE_NAME, fixed]])).seconds).toBe(60);
  });

  test('GIVEN a new image WHEN estimated THEN the changed resources are exactly those that reference ImageUri, and the gate bakes', () => {
    const expected = Object.fromEntries(
      [...all]
        .filter(([name]) => name !== ROOT_TEMPLATE_NAME)
        .map(([name, t]) => [
          name,
          Object.entries((t.Resources ?? {}) as Record<string, JsonObject>)
            .filter(([, r]) => referencedIds(r.Properties).has(IMAGE_PARAMETER))
            .map(([id]) => id)
            .sort(),
        ])
        .filter(([, ids]) => ids.length > 0),
    );
    expect(byKey('image-update').changedResources).toEqual(expected);
    expect(byKey('image-update').path.filter((p) => p.id === GATE_ID)).toEqual([
      expect.objectContaining({ id: GATE_ID, seconds: plan.bake.seconds + OVERHEADS.customResourceRoundTrip.seconds }),
    ]);
  });

  test('GIVEN a bad image WHEN estimated THEN both gates fail (the other region within a poll) and the path ends with ComputeStack rolled back', () => {
    const s = byKey('bad-image-rollback');
    const kinds = s.path.map((p) => p.kind);
    expect(kinds.filter((k) => k === 'gate')).toHaveLength(2);
    expect(s.path.find((p) => p.id.endsWith('(other region)'))?.seconds).toBe(OVERHEADS.gatePollInterval.seconds);
    expect(s.path.slice(-1)[0]).toMatchObject({ id: 'ComputeStack rollback', kind: 'rollback' });
    expect(s.seconds).toBeGreaterThan(byKey('image-update').seconds);
  });

  test('GIVEN an alarm threshold change WHEN estimated THEN only alarms whose Threshold comes from a parameter change, and the gate does not run', () => {
    const s = byKey('alarm-threshold');
    const ids = Object.entries(s.changedResources).flatMap(([name, list]) => list.map((id) => [name, id]));
    expect(ids.length).toBeGreaterThan(0);
    for (const [name, id] of ids) {
      const t = all.get(name) as JsonObject;
      const r = (t.Resources as Record<string, JsonObject>)[id];
      const params = Object.keys(t.Parameters ?? {});
      expect({ id, type: r.Type, fromParameter: [...referencedIds((r.Properties as JsonObject).Threshold)].some((p) => params.includes(p)) }).toEqual({
        id,
        type: 'AWS::CloudWatch::Alarm',
        fromParameter: true,
      });
    }
    expect(s.path.map((p) => p.id)).not.toContain(GATE_ID);
    const release = referencedIds((rootResources[GATE_ID].Properties as JsonObject).ReleaseInputs);
    const thresholds = ids.flatMap(([name, id]) => [...referencedIds((((all.get(name) as JsonObject).Resources as Record<string, JsonObject>)[id].Properties as JsonObject).Threshold)]);
    expect(thresholds.filter((p) => release.has(p))).toEqual([]);
  });

  test('GIVEN a schema migration WHEN estimated THEN the migration runs, no nested template changes, and the gate bakes last', () => {
    const s = byKey('schema-migration');
    expect(Object.keys(s.changedResources)).toEqual([]);
    expect(s.path.map((p) => p.id)).toContain(MIGRATION_ID);
    expect(s.path.map((p) => p.id).filter((id) => id !== GATE_WAIT).slice(-1)[0]).toBe(GATE_ID);
  });

  test.each(['image-update', 'schema-migration'])('GIVEN %s WHEN both gates bake THEN the gate that started first ends one poll after the other gate, never before it', (key) => {
    const gates = byKey(key).schedule.filter((u) => u.id === GATE_ID);
    const waits = byKey(key).schedule.filter((u) => u.id === GATE_WAIT);
    expect(gates).toHaveLength(2);
    const [first, second] = [...gates].sort((a, b) => a.start - b.start);
    expect(waits).toEqual([expect.objectContaining({ region: first.region, start: first.end, end: second.end + OVERHEADS.gatePollInterval.seconds })]);
  });

  test('GIVEN the Aurora instance, the largest estimate on the first deployment\'s path WHEN at the slow end of its range THEN the plan says what the first deployment would take against its target', () => {
    const first = byKey('first-deployment');
    const instance = RESOURCE_TIMINGS['AWS::RDS::DBInstance'];
    const slow = first.seconds + instance.createRange[1] - instance.createSeconds;
    const line = levers(plan).find((l) => l.startsWith('The Aurora instance is the largest figure'));
    expect(line).toContain(`at the slow end the first deployment takes ${formatDuration(slow)}`);
    expect(line).toContain(slow > first.targetSeconds ? `missing the 14 min target by ${formatDuration(slow - first.targetSeconds)}` : 'still within the 14 min target');
  });

  test('GIVEN the real templates WHEN planned THEN every resource type has a figure in the timing table', () => {
    expect(plan.defaultedTypes).toEqual([]);
  });

  test('GIVEN the targets WHEN printed THEN each verdict follows the estimate (a miss says by how much), and the assumptions are printed', () => {
    const text = formatPlan(plan);
    for (const s of plan.scenarios) {
      expect(verdict(s)).toBe(s.seconds <= s.targetSeconds ? `meets the ${s.targetSeconds / 60} min target` : expect.stringMatching(/^MISSES the \d+ min target by \d+m \d\ds$/));
      expect(text).toContain(verdict(s));
    }
    expect(text).toContain('Assumptions:');
  });

  test.each([
    ['an estimate that meets its target', 300, 360, 'meets the 6 min target'],
    ['an estimate exactly at its target', 360, 360, 'meets the 6 min target'],
    ['an estimate that misses by 65 s', 425, 360, 'MISSES the 6 min target by 1m 05s'],
  ])('GIVEN %s WHEN judged THEN the verdict reads %j', (_what, seconds, target, expected) => {
    expect(verdict({ ...byKey('image-update'), seconds, targetSeconds: target })).toBe(expected);
  });

  test('GIVEN the first deployment and the image update WHEN drawn THEN each is a Mermaid gantt chart with both regions and the critical units marked', () => {
    for (const key of ['first-deployment', 'image-update']) {
      const chart = ganttChart(byKey(key));
      expect(chart).toMatch(/^```mermaid\ngantt\n/);
      expect(chart).toContain('section primary region');
      expect(chart).toContain('section secondary region');
      expect(chart).toMatch(/:crit, \d+, \d+/);
      expect(renderPlanMarkdown(plan)).toContain(chart);
    }
  });
});

describe('timing table', () => {
  test.each(Object.entries(RESOURCE_TIMINGS))('GIVEN %s WHEN read THEN it has a typical figure inside its range, and a URL or the word estimate', (_type, t) => {
    expect(t.createRange[0]).toBeLessThanOrEqual(t.createSeconds);
    expect(t.createRange[1]).toBeGreaterThanOrEqual(t.createSeconds);
    expect(t.updateRange[0]).toBeLessThanOrEqual(t.updateSeconds);
    expect(t.updateRange[1]).toBeGreaterThanOrEqual(t.updateSeconds);
    if (t.basis === 'estimate') expect(t.source).toMatch(/^estimate: /);
    else expect(t.source).toMatch(/https:\/\//);
  });

  test.each(Object.entries(OVERHEADS))('GIVEN fixed cost %s WHEN read THEN it has a figure inside its range, and a URL or the word estimate', (_name, o) => {
    expect(o.range[0]).toBeLessThanOrEqual(o.seconds);
    expect(o.range[1]).toBeGreaterThanOrEqual(o.seconds);
    expect(o.basis === 'estimate' ? /estimate/.test(o.source) : /https:\/\//.test(o.source)).toBe(true);
  });
});
