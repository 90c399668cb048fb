import { JsonObject } from '../../cfn/lib/template';
import { ancestors as ancestorsIn, deploymentWaves, referencedIds, resourceGraph } from '../../cfn/lib/graph';
import { ROOT_TEMPLATE_NAME } from '../../cfn/stacks';
import {
  bakeMinutesOf,
  deploymentPlan,
  formatPlan,
  GATE_ID,
  IMAGE_PARAMETER,
  longestPath,
  MIGRATION_ID,
  nestedStackEstimate,
  SCENARIOS,
  ScenarioPlan,
} from '../../cfn/review/plan';
import { OVERHEADS, RESOURCE_TIMINGS, timingFor } from '../../cfn/review/timings';
import { template, templates } from '../support/template';

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
    expect(e.seconds).toBe(OVERHEADS.nestedStackSeconds + Math.max(...chains));
    expect(e.chain.reduce((sum, c) => sum + c.seconds, 0)).toBe(Math.max(...chains));
  });

  test('GIVEN a new image WHEN updated THEN only the function that references ImageUri counts', () => {
    const e = nestedStackEstimate('S', t, scenario('image-update'));
    expect(e.chain.map((c) => c.id)).toEqual(['Fn']);
    expect(e.seconds).toBe(OVERHEADS.nestedStackSeconds + timingFor('AWS::Lambda::Function', {}).updateSeconds);
  });

  test('GIVEN a template nothing in the scenario touches WHEN updated THEN it costs the no-op update', () => {
    expect(nestedStackEstimate('S', t, scenario('schema-migration'))).toEqual({ name: 'S', seconds: OVERHEADS.unchangedNestedStackSeconds, changed: false, chain: [] });
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

  test.each(SCENARIOS.map((s) => s.key))('GIVEN %s WHEN estimated THEN the total is the sum of a dependency chain of the root', (key) => {
    const s = byKey(key);
    expect(s.path[0].kind).toBe('stack set');
    expect(s.path.reduce((sum, p) => sum + p.seconds, 0)).toBe(s.seconds);
    const ids = s.path.slice(1).map((p) => p.id);
    for (let i = 1; i < ids.length; i++) expect({ step: ids[i], waitsFor: ancestors(ids[i]).has(ids[i - 1]) }).toEqual({ step: ids[i], waitsFor: true });
  });

  test('GIVEN a first deployment WHEN estimated THEN every nested stack is costed by its own longest chain', () => {
    for (const st of byKey('first-deployment').stacks) {
      const t = all.get(st.name) as JsonObject;
      const { seconds } = longestPath(resourceGraph(t), (id) => {
        const r = (t.Resources as Record<string, JsonObject>)[id];
        return timingFor(String(r.Type), r.Properties as JsonObject).createSeconds;
      });
      expect({ stack: st.name, seconds: st.seconds }).toEqual({ stack: st.name, seconds: OVERHEADS.nestedStackSeconds + seconds });
    }
  });

  test('GIVEN a new image WHEN estimated THEN the changed resources are exactly those that reference ImageUri', () => {
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
  });

  test('GIVEN an alarm threshold change WHEN estimated THEN only alarms whose Threshold comes from a parameter change', () => {
    const changed = byKey('alarm-threshold').changedResources;
    const ids = Object.entries(changed).flatMap(([name, list]) => list.map((id) => [name, id]));
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
  });

  test('GIVEN the gate WHEN planned THEN its bake is the BakeMinutes default of the root and it ends every path', () => {
    const param = ((rootResources[GATE_ID].Properties as JsonObject).BakeMinutes as JsonObject).Ref as string;
    expect(bakeMinutesOf(root)).toBe(Number(((root.Parameters as Record<string, JsonObject>)[param]).Default));
    for (const s of plan.scenarios) expect(s.path[s.path.length - 1].id).toBe(GATE_ID);
  });

  test('GIVEN a schema migration WHEN estimated THEN the migration runs and no nested template changes', () => {
    const s = byKey('schema-migration');
    expect(Object.keys(s.changedResources)).toEqual([]);
    expect(s.path.map((p) => p.id)).toContain(MIGRATION_ID);
  });

  test('GIVEN the real templates WHEN planned THEN every resource type has a figure in the timing table', () => {
    expect(plan.defaultedTypes).toEqual([]);
  });

  test('GIVEN the targets WHEN printed THEN each verdict follows the estimate and the assumptions are printed', () => {
    const text = formatPlan(plan);
    for (const s of plan.scenarios.filter((x) => x.targetSeconds !== undefined)) {
      const target = (s.targetSeconds as number) / 60;
      expect(text).toContain(s.seconds < (s.targetSeconds as number) ? `under the ${target} min target` : `NOT under the ${target} min target`);
    }
    expect(text).toContain('Assumptions:');
  });
});
