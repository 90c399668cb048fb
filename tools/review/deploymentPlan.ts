/**
 * Deployment plan: how long a release takes, for both regions of the one
 * StackSet operation together (PARALLEL region concurrency), for a first
 * deployment and for the common updates. Pure: templates in, plan out; the
 * figures come from timings.ts, each with its source and its range.
 *
 * Model: CloudFormation starts every resource as soon as everything it depends
 * on (DependsOn, Ref, Fn::GetAtt, Fn::Sub) is complete, so a stack takes as long
 * as its longest dependency chain. A nested stack costs a fixed overhead plus
 * the longest chain inside its own template; each region's root runs its nested
 * stacks and custom resources the same way, both regions at once, after the
 * StackSet operation's own overhead. Each region has exactly its resources:
 * IsPrimaryRegion decides per region, every other condition is taken as true
 * (DNS failover on, readers on: an upper bound). One edge crosses regions: the
 * primary's wait for the secondary's replication targets starts no earlier than
 * the secondary's StorageStack is complete.
 *
 * Every figure is computed three times, with the typical value of each row and
 * with the ends of its range, so the plan shows the typical case and the range.
 */
import { Json, JsonObject } from '../../cfn/lib/template';
import { NESTED_STACK_TYPE, deploymentWaves, isCustomResourceType, referencedIds, resourceGraph } from '../../cfn/lib/graph';
import { IS_PRIMARY_REGION_CONDITION } from '../../cfn/lib/sharedParameters';
import { GATED_ALARM_NAMES_OUTPUT } from '../../cfn/contract/names';
import { ROOT_TEMPLATE_NAME } from '../../cfn/contract/layout';
import { Basis, DEFAULT_TIMING, OVERHEADS, RESOURCE_TIMINGS, ResourceTiming, hasTiming, timingFor } from './timings';
import { AUTO_BAKE, DEPLOYMENT_GATE as GATE_ID, REGION_PREREQUISITES, SCHEMA_MIGRATION as MIGRATION_ID } from '../../cfn/stacks/root';

/** Root logical IDs (and Custom::<id> types) of the custom resources the plan must know. */
export { GATE_ID, MIGRATION_ID };
/** Nested parameter carrying the image every function runs. */
export const IMAGE_PARAMETER = 'ImageUri';

const isGate = (id: string, type: string): boolean => id === GATE_ID || type === `Custom::${GATE_ID}`;
/** The wait of the gate that started first for the other region's gate (a step of the timeline, not a resource). */
export const GATE_WAIT = `${GATE_ID} (waits for the other region's gate)`;
const isMigration = (id: string, type: string): boolean => id === MIGRATION_ID || type === `Custom::${MIGRATION_ID}`;

export type ScenarioKey = 'first-deployment' | 'image-update' | 'bad-image-rollback' | 'alarm-threshold' | 'schema-migration';
export type Region = 'primary' | 'secondary';
export const REGIONS: readonly Region[] = ['primary', 'secondary'];
/** Which end of each row's range a computation uses. */
export type Case = 'typical' | 'fastest' | 'slowest';
const CASES: readonly Case[] = ['typical', 'fastest', 'slowest'];

export interface ScenarioDef {
  readonly key: ScenarioKey;
  readonly title: string;
  readonly description: string;
  readonly mode: 'create' | 'update';
  /** Update mode: the nested resources that change. */
  readonly changes?: (resource: JsonObject, template: JsonObject) => boolean;
  /** Update mode: the root custom resources that run (the gate runs when its ReleaseInputs change). */
  readonly runs?: (id: string, type: string) => boolean;
  /** The gate fails at the end of its bake and both regions roll back; the scenario ends when the previous image runs again. */
  readonly rollsBack?: boolean;
  /** Acceptance target for both regions together. */
  readonly targetSeconds: number;
}

const propertiesOf = (r: JsonObject): JsonObject => (r.Properties ?? {}) as JsonObject;
const parameterNames = (t: JsonObject): string[] => Object.keys((t.Parameters ?? {}) as JsonObject);
const referencesImage = (r: JsonObject): boolean => referencedIds(propertiesOf(r)).has(IMAGE_PARAMETER);

export const SCENARIOS: readonly ScenarioDef[] = [
  {
    key: 'first-deployment',
    title: 'First deployment',
    description: 'Both regions are created in one StackSet operation: every nested stack and custom resource; the gate does not bake on Create.',
    mode: 'create',
    targetSeconds: 14 * 60,
  },
  {
    key: 'image-update',
    title: 'New image',
    description: `Only the image changes (PrimaryImageUri, SecondaryImageUri): every function that references ${IMAGE_PARAMETER} updates its code in place, then the gate bakes.`,
    mode: 'update',
    changes: referencesImage,
    runs: (id, type) => isGate(id, type),
    targetSeconds: 6 * 60,
  },
  {
    key: 'bad-image-rollback',
    title: 'Bad image rolled back',
    description:
      'A new image breaks: an alarm fires at the end of the bake window of the gate that started last (the worst case); the other region\'s gate, which waits for that verdict, sees the failing region\'s deployment-health alarm at its next poll; both gates fail, and both regions roll back. Ends when both regions run the previous image again.',
    mode: 'update',
    changes: referencesImage,
    runs: (id, type) => isGate(id, type),
    rollsBack: true,
    targetSeconds: 10 * 60,
  },
  {
    key: 'alarm-threshold',
    title: 'Alarm threshold',
    description:
      'An alarm threshold parameter changes: the alarms whose Threshold comes from a parameter update in place (one or all: they update in parallel). The gate does not run: a threshold is not part of the release it bakes (its ReleaseInputs do not change), and no bake could see anything new in the code that runs.',
    mode: 'update',
    changes: (r, t) => {
      if (r.Type !== 'AWS::CloudWatch::Alarm') return false;
      const refs = referencedIds(propertiesOf(r).Threshold);
      return parameterNames(t).some((p) => refs.has(p));
    },
    runs: () => false,
    targetSeconds: 5 * 60,
  },
  {
    key: 'schema-migration',
    title: 'Schema migration',
    description: `A new migration file changes ${MIGRATION_ID}'s migrations hash: the migration runs, then the gate bakes. No nested template changes.`,
    mode: 'update',
    changes: () => false,
    runs: (id, type) => isGate(id, type) || isMigration(id, type),
    targetSeconds: 6 * 60,
  },
];

export interface ChainStep {
  readonly id: string;
  readonly type: string;
  readonly seconds: number;
}

export interface StackEstimate {
  readonly name: string;
  /** Overhead plus the chain; for an unchanged stack in an update, the no-op update cost. */
  readonly seconds: number;
  readonly changed: boolean;
  /** The longest dependency chain inside the template (resources that take time only). */
  readonly chain: readonly ChainStep[];
}

export interface PathStep {
  readonly id: string;
  readonly region?: Region;
  readonly kind: 'stack set' | 'nested stack' | 'custom resource' | 'resource' | 'gate' | 'rollback';
  readonly seconds: number;
  readonly note: string;
}

/** One unit of one region on the timeline (seconds from the start of the operation). */
export interface ScheduledUnit {
  readonly id: string;
  readonly region: Region;
  readonly kind: PathStep['kind'];
  readonly start: number;
  readonly end: number;
  readonly critical: boolean;
}

export interface ScenarioPlan {
  readonly key: ScenarioKey;
  readonly title: string;
  readonly description: string;
  /** Both regions together, typical case. */
  readonly seconds: number;
  /** Both regions together, fastest and slowest ends of every range. */
  readonly range: readonly [number, number];
  /** Per region, typical case. */
  readonly regionSeconds: Readonly<Record<Region, number>>;
  readonly targetSeconds: number;
  /** The critical path, typical case. */
  readonly path: readonly PathStep[];
  /** Typical-case timeline of every unit in both regions. */
  readonly schedule: readonly ScheduledUnit[];
  /** Per nested stack, primary region, typical case. */
  readonly stacks: readonly StackEstimate[];
  /** Nested resources the scenario changes, by template (update scenarios). */
  readonly changedResources: Readonly<Record<string, readonly string[]>>;
}

export interface BakeEstimate {
  readonly seconds: number;
  /** How the figure was found, for the plan's text. */
  readonly how: string;
}

export interface DeploymentPlan {
  readonly waves: readonly (readonly string[])[];
  readonly bake: BakeEstimate;
  readonly scenarios: readonly ScenarioPlan[];
  readonly assumptions: readonly string[];
  /** Resource types found in the templates that have no row in the timing table. */
  readonly defaultedTypes: readonly string[];
}

/**
 * Longest weighted path through a dependency graph (node -> nodes it waits for).
 * Ties go to the alphabetically first node, so the result is deterministic.
 */
export function longestPath(edges: ReadonlyMap<string, ReadonlySet<string>>, weight: (id: string) => number): { seconds: number; path: string[] } {
  const memo = new Map<string, { seconds: number; path: string[] }>();
  const visiting = new Set<string>();
  const visit = (id: string): { seconds: number; path: string[] } => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) throw new Error(`dependency cycle through ${id}`);
    visiting.add(id);
    let best = { seconds: 0, path: [] as string[] };
    for (const dep of [...(edges.get(id) ?? [])].filter((d) => edges.has(d)).sort()) {
      const candidate = visit(dep);
      if (candidate.seconds > best.seconds) best = candidate;
    }
    visiting.delete(id);
    const result = { seconds: best.seconds + weight(id), path: [...best.path, id] };
    memo.set(id, result);
    return result;
  };
  let best = { seconds: 0, path: [] as string[] };
  for (const id of [...edges.keys()].sort()) {
    const candidate = visit(id);
    if (candidate.seconds > best.seconds) best = candidate;
  }
  return best;
}

const resourcesOf = (t: JsonObject): Record<string, JsonObject> => (t.Resources ?? {}) as Record<string, JsonObject>;
const typeOf = (r: JsonObject): string => String(r.Type);

/** True when the resource exists in `region`: IsPrimaryRegion decides, every other condition is taken as true. */
export const existsIn = (r: JsonObject, region: Region): boolean => r.Condition !== IS_PRIMARY_REGION_CONDITION || region === 'primary';

/** The resources of `t` that exist in `region`, with the dependency edges among them. */
function regionalGraph(t: JsonObject, region: Region): { resources: Record<string, JsonObject>; edges: Map<string, Set<string>> } {
  const resources = Object.fromEntries(Object.entries(resourcesOf(t)).filter(([, r]) => existsIn(r, region)));
  const all = resourceGraph(t);
  const edges = new Map(Object.keys(resources).map((id) => [id, new Set([...(all.get(id) ?? [])].filter((d) => d in resources))]));
  return { resources, edges };
}

const pick = (typical: number, range: readonly [number, number], c: Case): number => (c === 'typical' ? typical : c === 'fastest' ? range[0] : range[1]);
const createOf = (t: ResourceTiming, c: Case): number => pick(t.createSeconds, t.createRange, c);
const updateOf = (t: ResourceTiming, c: Case): number => pick(t.updateSeconds, t.updateRange, c);
const overhead = (o: { seconds: number; range: readonly [number, number] }, c: Case): number => pick(o.seconds, o.range, c);

/** A nested stack's estimate for one scenario in one region. */
export function nestedStackEstimate(name: string, template: JsonObject, scenario: ScenarioDef, region: Region = 'primary', c: Case = 'typical'): StackEstimate {
  const { resources, edges } = regionalGraph(template, region);
  const changed = new Set(
    Object.entries(resources)
      .filter(([, r]) => scenario.mode === 'create' || (scenario.changes?.(r, template) ?? false))
      .map(([id]) => id),
  );
  if (changed.size === 0) return { name, seconds: overhead(OVERHEADS.unchangedNestedStack, c), changed: false, chain: [] };
  const weight = (id: string): number => {
    if (!changed.has(id)) return 0;
    const r = resources[id];
    const timing = timingFor(typeOf(r), r.Properties as JsonObject | undefined);
    return scenario.mode === 'create' ? createOf(timing, c) : updateOf(timing, c);
  };
  const { seconds, path } = longestPath(edges, weight);
  const chain = path.filter((id) => weight(id) > 0).map((id) => ({ id, type: typeOf(resources[id]), seconds: weight(id) }));
  return { name, seconds: overhead(OVERHEADS.nestedStack, c) + seconds, changed: true, chain };
}

/** The root parameters the gate's ReleaseInputs name: a change to any of them runs the gate. */
export function releaseParameters(root: JsonObject): Set<string> {
  const gate = Object.entries(resourcesOf(root)).find(([id, r]) => isGate(id, typeOf(r)));
  return referencedIds(propertiesOf(gate?.[1] ?? {}).ReleaseInputs);
}

/** The gate's bake property: a whole number of minutes, or auto. */
const bakeMinutesSetting = (root: JsonObject): string | undefined => {
  const gate = Object.entries(resourcesOf(root)).find(([id, r]) => isGate(id, typeOf(r)));
  const value = gate === undefined ? undefined : propertiesOf(gate[1]).BakeMinutes;
  const ref = value !== null && typeof value === 'object' && !Array.isArray(value) ? value.Ref : undefined;
  const resolved = typeof ref === 'string' ? ((root.Parameters ?? {}) as Record<string, JsonObject>)[ref]?.Default : value;
  return resolved === undefined || resolved === null ? undefined : String(resolved);
};

/** The largest metric period of an alarm: its Period, or that of its metric-math queries. */
const alarmPeriod = (props: JsonObject): number => {
  if (typeof props.Period === 'number') return props.Period;
  const queries = Array.isArray(props.Metrics) ? (props.Metrics as JsonObject[]) : [];
  return Math.max(0, ...queries.map((q) => Number(((q.MetricStat ?? {}) as JsonObject).Period ?? 0)));
};

/** A property's value with a Ref to a parameter resolved to that parameter's Default. */
const resolved = (value: Json | undefined, t: JsonObject): number => {
  const ref = value !== null && typeof value === 'object' && !Array.isArray(value) ? value.Ref : undefined;
  const v = typeof ref === 'string' ? ((t.Parameters ?? {}) as Record<string, JsonObject>)[ref]?.Default : value;
  return Number(v);
};

/**
 * The bake on an update as the gate computes it: BakeMinutes when it is a number;
 * when it is auto, the gated alarms' evaluation window (the largest DatapointsToAlarm
 * x period among the member alarms of MonitoringStack's GatedAlarmNames, with the
 * parameters' defaults) plus the gate's MetricPublishDelaySeconds.
 */
export function bakeOf(templates: ReadonlyMap<string, JsonObject>, rootName: string = ROOT_TEMPLATE_NAME): BakeEstimate {
  const root = templates.get(rootName) ?? {};
  const setting = bakeMinutesSetting(root);
  if (setting === undefined) return { seconds: 0, how: `${rootName} has no ${GATE_ID}` };
  if (setting !== AUTO_BAKE) return { seconds: Number(setting) * 60, how: `BakeMinutes ${setting}` };
  const gate = Object.entries(resourcesOf(root)).find(([id, r]) => isGate(id, typeOf(r)));
  const delay = Number(propertiesOf(gate?.[1] ?? {}).MetricPublishDelaySeconds ?? 0);
  const monitoring = [...templates.values()].find((t) => GATED_ALARM_NAMES_OUTPUT in ((t.Outputs ?? {}) as JsonObject));
  if (monitoring === undefined) return { seconds: delay, how: `auto: no template has the ${GATED_ALARM_NAMES_OUTPUT} output; the ${delay} s metric delay alone` };
  const gated = referencedIds(((monitoring.Outputs as Record<string, JsonObject>)[GATED_ALARM_NAMES_OUTPUT]).Value);
  const windows = Object.entries(resourcesOf(monitoring))
    .filter(([id, r]) => gated.has(id) && r.Type === 'AWS::CloudWatch::Alarm')
    .map(([, r]) => {
      const props = propertiesOf(r);
      const datapoints = resolved(props.DatapointsToAlarm ?? props.EvaluationPeriods, monitoring);
      return { datapoints, period: alarmPeriod(props), seconds: datapoints * alarmPeriod(props) };
    })
    .sort((a, b) => b.seconds - a.seconds);
  const widest = windows[0] ?? { datapoints: 0, period: 0, seconds: 0 };
  return {
    seconds: widest.seconds + delay,
    how: `auto: ${widest.datapoints} x ${widest.period} s (DatapointsToAlarm x period of the widest gated alarm) + ${delay} s metric publishing delay`,
  };
}

interface UnitCost {
  readonly kind: PathStep['kind'];
  readonly seconds: number;
  readonly note: string;
}

interface RegionTimeline {
  readonly units: Map<string, { start: number; end: number; cost: UnitCost; after?: string }>;
}

/**
 * The cost of every root unit in one region, for one scenario and one case. Other
 * root resources cost nothing (the root owns none that takes time).
 */
function unitCosts(templates: ReadonlyMap<string, JsonObject>, root: JsonObject, scenario: ScenarioDef, region: Region, c: Case, bake: BakeEstimate): Map<string, UnitCost> {
  const costs = new Map<string, UnitCost>();
  const roundTrip = overhead(OVERHEADS.customResourceRoundTrip, c);
  for (const [id, r] of Object.entries(regionalGraph(root, region).resources)) {
    const type = typeOf(r);
    if (type === NESTED_STACK_TYPE) {
      const nested = templates.get(id);
      if (nested === undefined) throw new Error(`plan: ${ROOT_TEMPLATE_NAME} nests ${id}, but there is no template named ${id}`);
      const e = nestedStackEstimate(id, nested, scenario, region, c);
      const note = e.changed
        ? `${overhead(OVERHEADS.nestedStack, c)} s overhead + ${e.chain.map((s) => `${s.id} ${s.seconds} s`).join(' -> ')}`
        : 'unchanged: update without resource changes';
      costs.set(id, { kind: 'nested stack', seconds: e.seconds, note });
    } else if (isCustomResourceType(type)) {
      const runs = scenario.mode === 'create' || (scenario.runs?.(id, type) ?? false);
      if (!runs) costs.set(id, { kind: 'custom resource', seconds: 0, note: 'does not run' });
      else if (isGate(id, type)) {
        costs.set(
          id,
          scenario.mode === 'create'
            ? { kind: 'gate', seconds: roundTrip, note: `no bake on Create + ${roundTrip} s round trip` }
            : { kind: 'gate', seconds: bake.seconds + roundTrip, note: `bake ${bake.seconds} s (${bake.how}) + ${roundTrip} s round trip` },
        );
      } else {
        const timing = RESOURCE_TIMINGS[type] ?? DEFAULT_TIMING;
        costs.set(id, { kind: 'custom resource', seconds: scenario.mode === 'create' ? createOf(timing, c) : updateOf(timing, c), note: timing.source });
      }
    } else costs.set(id, { kind: 'resource', seconds: 0, note: type });
  }
  return costs;
}

/**
 * Both regions' timelines: each unit starts when the units it waits for end;
 * `external` adds starts that wait for the other region (the prerequisites wait).
 */
function timelines(
  root: JsonObject,
  costs: Readonly<Record<Region, Map<string, UnitCost>>>,
  start: number,
  crossRegion: boolean,
): Record<Region, RegionTimeline> {
  const schedule = (region: Region, notBefore: ReadonlyMap<string, number>): RegionTimeline => {
    const { edges } = regionalGraph(root, region);
    const units = new Map<string, { start: number; end: number; cost: UnitCost; after?: string }>();
    const visit = (id: string): { start: number; end: number } => {
      const known = units.get(id);
      if (known !== undefined) return known;
      let begin = Math.max(start, notBefore.get(id) ?? start);
      let after: string | undefined = notBefore.has(id) && (notBefore.get(id) ?? 0) > start ? `${other(region)}:StorageStack` : undefined;
      for (const dep of [...(edges.get(id) ?? [])].sort()) {
        const d = visit(dep);
        if (d.end > begin) {
          begin = d.end;
          after = dep;
        }
      }
      const cost = costs[region].get(id) ?? { kind: 'resource' as const, seconds: 0, note: '' };
      const entry = { start: begin, end: begin + cost.seconds, cost, after };
      units.set(id, entry);
      return entry;
    };
    for (const id of [...edges.keys()].sort()) visit(id);
    return { units };
  };
  const secondary = schedule('secondary', new Map());
  const storage = secondary.units.get('StorageStack');
  const gate = crossRegion && storage !== undefined ? new Map([[REGION_PREREQUISITES, storage.end]]) : new Map<string, number>();
  return { primary: schedule('primary', gate), secondary };
}

const other = (r: Region): Region => (r === 'primary' ? 'secondary' : 'primary');

/**
 * The gate that starts first answers only after the other region's gate has (lambda/tap/deploy_gate.py,
 * await_peer_gate): it sees that answer at its next poll. Nothing in the root waits for the gate, so
 * only the gate's own end moves; the wait becomes a step after it, on the critical path when it ends last.
 */
function awaitOtherGate(t: Record<Region, RegionTimeline>, poll: number): void {
  const gates = REGIONS.map((r) => ({ region: r, unit: t[r].units.get(GATE_ID) })).filter((g) => g.unit !== undefined && g.unit.cost.seconds > 0);
  if (gates.length !== 2) return;
  const [first, second] = gates.sort((a, b) => (a.unit?.start ?? 0) - (b.unit?.start ?? 0));
  const answered = (second.unit?.end ?? 0) + poll;
  if (first.unit === undefined || answered <= first.unit.end) return;
  const waited = answered - first.unit.end;
  t[first.region].units.set(GATE_WAIT, {
    start: first.unit.end,
    end: answered,
    after: GATE_ID,
    cost: { kind: 'gate', seconds: waited, note: `started first, so it waits for the ${second.region} gate's answer and sees it at its next poll (every 30 s)` },
  });
}
const lastEnd = (t: RegionTimeline): number => Math.max(0, ...[...t.units.values()].map((u) => u.end));

/** The chain that ends last, followed back through the units each one waited for. */
function criticalChain(t: Record<Region, RegionTimeline>, region: Region, from: string): Array<{ region: Region; id: string }> {
  const chain: Array<{ region: Region; id: string }> = [];
  let current: { region: Region; id: string } | undefined = { region, id: from };
  while (current !== undefined) {
    chain.unshift(current);
    const unit = t[current.region].units.get(current.id);
    const after: string | undefined = unit?.after;
    if (after === undefined) current = undefined;
    else if (after.includes(':')) {
      const [r, id] = after.split(':') as [Region, string];
      current = { region: r, id };
    } else current = { region: current.region, id: after };
  }
  return chain;
}

const lastUnit = (t: RegionTimeline): string =>
  [...t.units.entries()].sort(([a, x], [b, y]) => y.end - x.end || (a < b ? -1 : 1))[0]?.[0] ?? '';

interface Outcome {
  readonly seconds: number;
  readonly regionSeconds: Record<Region, number>;
  readonly path: PathStep[];
  readonly schedule: ScheduledUnit[];
}

/** One scenario in one case: the operation's duration, its critical path and both timelines. */
function simulate(templates: ReadonlyMap<string, JsonObject>, root: JsonObject, scenario: ScenarioDef, c: Case, bake: BakeEstimate): Outcome {
  const stackSet = overhead(OVERHEADS.stackSetOperation, c);
  const costs = { primary: unitCosts(templates, root, scenario, 'primary', c, bake), secondary: unitCosts(templates, root, scenario, 'secondary', c, bake) };
  const t = timelines(root, costs, stackSet, scenario.mode === 'create');
  if (scenario.mode !== 'create' && scenario.rollsBack !== true) awaitOtherGate(t, overhead(OVERHEADS.gatePollInterval, c));
  const stackSetStep: PathStep = { id: 'StackSet operation', kind: 'stack set', seconds: stackSet, note: OVERHEADS.stackSetOperation.source };
  const asStep = (region: Region, id: string): PathStep => {
    const u = t[region].units.get(id);
    return { id, region, kind: u?.cost.kind ?? 'resource', seconds: u?.cost.seconds ?? 0, note: u?.cost.note ?? '' };
  };
  const slowest: Region = lastEnd(t.primary) >= lastEnd(t.secondary) ? 'primary' : 'secondary';
  let path = criticalChain(t, slowest, lastUnit(t[slowest])).map(({ region, id }) => asStep(region, id));
  let seconds = Math.max(lastEnd(t.primary), lastEnd(t.secondary));
  const regionSeconds = { primary: lastEnd(t.primary), secondary: lastEnd(t.secondary) };
  const schedule: ScheduledUnit[] = [];
  const critical = new Set(path.map((p) => `${p.region}:${p.id}`));
  for (const region of REGIONS) {
    for (const [id, u] of t[region].units) {
      if (u.cost.seconds > 0) schedule.push({ id, region, kind: u.cost.kind, start: u.start, end: u.end, critical: critical.has(`${region}:${id}`) });
    }
  }

  if (scenario.rollsBack === true) {
    // The alarm fires at the end of the bake window in the region whose gate started last; the
    // other region's gate sees that region's deployment-health alarm within one poll.
    const gateStart = Math.max(...REGIONS.map((r) => t[r].units.get(GATE_ID)?.start ?? 0));
    const poll = overhead(OVERHEADS.gatePollInterval, c);
    const roundTrip = overhead(OVERHEADS.customResourceRoundTrip, c);
    const failedAt = gateStart + bake.seconds + poll + roundTrip;
    const rollback = REGIONS.map((region) => rollbackToImage(root, costs[region], region, failedAt, roundTrip));
    const worst = rollback.sort((a, b) => b.end - a.end)[0];
    const forward = criticalChain(t, slowest, GATE_ID).map(({ region, id }) => asStep(region, id));
    path = [
      ...forward.slice(0, -1),
      { id: GATE_ID, region: slowest, kind: 'gate', seconds: bake.seconds + roundTrip, note: `the alarm fires at the end of the ${bake.seconds} s bake window (${bake.how}); FAILED + ${roundTrip} s` },
      { id: `${GATE_ID} (other region)`, region: other(slowest), kind: 'gate', seconds: poll, note: 'waiting for this verdict, sees the failing region\'s deployment-health alarm at its next poll and fails too' },
      ...worst.path,
    ];
    seconds = worst.end;
    for (const r of rollback) {
      for (const u of r.units) schedule.push({ ...u, critical: worst.path.some((p) => p.id === u.id && p.region === u.region) });
      regionSeconds[r.region] = r.end;
    }
    for (const region of REGIONS) {
      const gate = schedule.find((u) => u.id === GATE_ID && u.region === region);
      if (gate !== undefined) schedule.splice(schedule.indexOf(gate), 1, { ...gate, end: failedAt });
    }
  }
  return { seconds, regionSeconds, path: [stackSetStep, ...path.filter((p) => p.seconds > 0)], schedule };
}

/**
 * The rollback after the gate failed at `failedAt`: CloudFormation rolls every updated unit
 * back, each after the units that depend on it, the gate first (it answers SUCCESS at once
 * during a rollback). The previous image runs again when the stacks whose functions changed
 * are rolled back.
 */
function rollbackToImage(
  root: JsonObject,
  costs: Map<string, UnitCost>,
  region: Region,
  failedAt: number,
  roundTrip: number,
): { region: Region; end: number; path: PathStep[]; units: ScheduledUnit[] } {
  const { edges } = regionalGraph(root, region);
  const dependents = new Map<string, Set<string>>([...edges.keys()].map((k) => [k, new Set<string>()]));
  for (const [id, deps] of edges) for (const d of deps) dependents.get(d)?.add(id);
  const updated = (id: string): boolean => {
    const c = costs.get(id);
    return c !== undefined && (c.kind === 'nested stack' || c.kind === 'gate');
  };
  const cost = (id: string): number => {
    const c = costs.get(id);
    if (c === undefined || !updated(id)) return 0;
    return c.kind === 'gate' ? roundTrip : c.seconds;
  };
  const done = new Map<string, { start: number; end: number; after?: string }>();
  const visit = (id: string): { start: number; end: number } => {
    const known = done.get(id);
    if (known !== undefined) return known;
    let begin = failedAt;
    let after: string | undefined;
    for (const d of [...(dependents.get(id) ?? [])].sort()) {
      const x = visit(d);
      if (x.end > begin) {
        begin = x.end;
        after = d;
      }
    }
    const entry = { start: begin, end: begin + cost(id), after };
    done.set(id, entry);
    return entry;
  };
  const changedStacks = [...costs].filter(([, c]) => c.kind === 'nested stack' && c.note !== 'unchanged: update without resource changes').map(([id]) => id);
  for (const id of edges.keys()) visit(id);
  const target = changedStacks.sort((a, b) => (done.get(b)?.end ?? 0) - (done.get(a)?.end ?? 0))[0];
  const chain: string[] = [];
  for (let id: string | undefined = target; id !== undefined; id = done.get(id)?.after) chain.unshift(id);
  const path = chain
    .filter((id) => cost(id) > 0)
    .map((id) => ({
      id: `${id} rollback`,
      region,
      kind: 'rollback' as const,
      seconds: cost(id),
      note: id === GATE_ID ? 'answers SUCCESS at once during a rollback' : (costs.get(id)?.note ?? ''),
    }));
  const units = [...done].filter(([id]) => cost(id) > 0).map(([id, u]) => ({ id: `${id} rollback`, region, kind: 'rollback' as const, start: u.start, end: u.end, critical: false }));
  return { region, end: target === undefined ? failedAt : (done.get(target)?.end ?? failedAt), path, units };
}

function scenarioPlan(templates: ReadonlyMap<string, JsonObject>, root: JsonObject, scenario: ScenarioDef, bake: BakeEstimate): ScenarioPlan {
  const [typical, fastest, slowest] = CASES.map((c) => simulate(templates, root, scenario, c, bake));
  const changedResources: Record<string, string[]> = {};
  const stacks: StackEstimate[] = [];
  for (const [id, r] of Object.entries(resourcesOf(root))) {
    if (typeOf(r) !== NESTED_STACK_TYPE) continue;
    const nested = templates.get(id);
    if (nested === undefined) throw new Error(`plan: ${ROOT_TEMPLATE_NAME} nests ${id}, but there is no template named ${id}`);
    const estimate = nestedStackEstimate(id, nested, scenario);
    stacks.push(estimate);
    if (scenario.mode === 'update' && estimate.changed) {
      changedResources[id] = Object.entries(resourcesOf(nested))
        .filter(([, res]) => scenario.changes?.(res, nested) ?? false)
        .map(([rid]) => rid)
        .sort();
    }
  }
  return {
    key: scenario.key,
    title: scenario.title,
    description: scenario.description,
    seconds: typical.seconds,
    range: [fastest.seconds, slowest.seconds],
    regionSeconds: typical.regionSeconds,
    targetSeconds: scenario.targetSeconds,
    path: typical.path,
    schedule: typical.schedule,
    stacks,
    changedResources,
  };
}

export function deploymentPlan(templates: ReadonlyMap<string, JsonObject>, rootName: string = ROOT_TEMPLATE_NAME): DeploymentPlan {
  const root = templates.get(rootName);
  if (root === undefined) throw new Error(`plan: no root template named ${rootName}`);
  const bake = bakeOf(templates, rootName);
  const scenarios = SCENARIOS.map((s) => scenarioPlan(templates, root, s, bake));
  const defaultedTypes = [
    ...new Set(
      [...templates.values()]
        .flatMap((t) => Object.values(resourcesOf(t)).map(typeOf))
        .filter((type) => type !== NESTED_STACK_TYPE && !hasTiming(type) && !(isCustomResourceType(type) && type === `Custom::${GATE_ID}`)),
    ),
  ].sort();
  const assumptions = [
    'Both regions run in one StackSet operation with PARALLEL region concurrency: a release takes as long as its slower region plus the operation\'s own overhead, not twice one region.',
    'Conditions: IsPrimaryRegion decides per region (the secondary has no global table, no replication, no prerequisites wait); every other conditional resource exists (DNS failover on, Aurora readers, secret rotation, alarm e-mail): an upper bound. Without a hosted zone there is no DnsStack.',
    `A nested stack takes ${OVERHEADS.nestedStack.seconds} s of overhead plus the longest dependency chain inside its template (DependsOn, Ref, Fn::GetAtt, Fn::Sub); resources with no dependency between them are created in parallel, as CloudFormation does.`,
    `In an update CloudFormation starts an update on every nested stack but changes only the resources of modified ones; an unmodified nested stack is counted as ${OVERHEADS.unchangedNestedStack.seconds} s.`,
    `The deployment gate does not bake on Create (a new environment has no traffic and no alarm data); on an update that changes a release input (a template other than MonitoringStack's, an image, a parameter a stack other than MonitoringStack takes, a migration) it bakes ${bake.seconds} s (${bake.how}), plus ${OVERHEADS.customResourceRoundTrip.seconds} s for the custom-resource round trip; it runs last. Both regions bake at the same time; the gate that started first then waits for the other region's answer and sees it at its next poll, so a release is kept or rolled back in both regions.`,
    `The StackSet operation itself costs about ${OVERHEADS.stackSetOperation.seconds} s. Pulumi's own work before it (image build and push, template upload, in each region's stack) is not counted.`,
    'The primary\'s wait for the secondary region\'s replica bucket and keys starts no earlier than the secondary\'s StorageStack is complete; it is off the Aurora path.',
    'Rollback: CloudFormation rolls each updated unit back after the units that depend on it; an unchanged nested stack costs its no-op update again. The previous image runs when ComputeStack is rolled back.',
    'Every row of the timing table gives its typical figure, its range and its source (AWS documentation, AWS\'s handler source, a public deployment log) or says "estimate"; the range of each scenario uses the ends of every row\'s range at once, so it is wider than any real run.',
    defaultedTypes.length === 0
      ? 'Every resource type in the templates has a row in the timing table.'
      : `Types without a row in the timing table count as ${DEFAULT_TIMING.createSeconds} s: ${defaultedTypes.join(', ')}.`,
  ];
  return { waves: deploymentWaves(root), bake, scenarios, assumptions, defaultedTypes };
}

/** `12m 05s`. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}

/** `meets the 14 min target` or `MISSES the 14 min target by 1m 05s`. */
export const verdict = (s: ScenarioPlan): string =>
  s.seconds <= s.targetSeconds
    ? `meets the ${s.targetSeconds / 60} min target`
    : `MISSES the ${s.targetSeconds / 60} min target by ${formatDuration(s.seconds - s.targetSeconds)}`;

const rangeText = (s: ScenarioPlan): string => `range ${formatDuration(s.range[0])} - ${formatDuration(s.range[1])}`;

/**
 * What moves the estimates, computed from the plan itself: the first deployment
 * waits for Aurora; every update bakes.
 */
export function levers(plan: DeploymentPlan): string[] {
  const out: string[] = [];
  const first = plan.scenarios.find((s) => s.key === 'first-deployment');
  const image = plan.scenarios.find((s) => s.key === 'image-update');
  if (first !== undefined) {
    const db = first.path.find((p) => p.id === 'DatabaseStack');
    const before = first.path.slice(0, first.path.findIndex((p) => p.id === 'DatabaseStack'));
    if (db !== undefined) {
      out.push(
        `The first deployment's critical path is the Aurora chain: ${before.map((p) => `${p.id} (${formatDuration(p.seconds)})`).join(', ')}, then DatabaseStack (${formatDuration(db.seconds)}: ${db.note}). Aurora alone is ${formatDuration(
          db.seconds,
        )} of the ${formatDuration(first.seconds)}; what runs before it is ${formatDuration(before.reduce((n, p) => n + p.seconds, 0))}.`,
      );
      // The largest estimate on the path: what the first deployment takes at the slow end of its row.
      const instance = RESOURCE_TIMINGS['AWS::RDS::DBInstance'];
      if (instance !== undefined) {
        const slow = first.seconds + instance.createRange[1] - instance.createSeconds;
        const verdictAtSlowEnd =
          slow <= first.targetSeconds ? `still within the ${first.targetSeconds / 60} min target` : `missing the ${first.targetSeconds / 60} min target by ${formatDuration(slow - first.targetSeconds)}`;
        out.push(
          `The Aurora instance is the largest figure on that path and an estimate (${formatDuration(instance.createSeconds)}, range ${formatDuration(instance.createRange[0])}-${formatDuration(
            instance.createRange[1],
          )}): at the slow end the first deployment takes ${formatDuration(slow)}, ${verdictAtSlowEnd}. Nothing in tap's graph would close that: the cluster already waits only for the network core, and the instance's own creation is AWS's.`,
        );
      }
    }
  }
  if (image !== undefined && plan.bake.seconds > 0) {
    out.push(
      `Every update of the release bakes ${formatDuration(plan.bake.seconds)} (${plan.bake.how}). BakeMinutes overrides it: with 1 (\`pulumi config set tap:bakeMinutes 1\`) the image update would take ${formatDuration(
        image.seconds - plan.bake.seconds + 60,
      )}; fewer DatapointsToAlarm or shorter periods shorten the derived bake, and make the alarms noisier.`,
    );
  }
  for (const s of plan.scenarios) {
    if (s.seconds > s.targetSeconds) {
      out.push(`${s.title} misses its ${s.targetSeconds / 60} min target by ${formatDuration(s.seconds - s.targetSeconds)}: its longest step is ${[...s.path].sort((a, b) => b.seconds - a.seconds)[0]?.id ?? 'none'}.`);
    }
  }
  return out;
}

const where = (p: PathStep): string => (p.region === undefined ? '' : ` [${p.region}]`);

/** What `npm run plan` prints. */
export function formatPlan(plan: DeploymentPlan): string {
  const lines: string[] = ['Deployment waves (each region):'];
  plan.waves.forEach((w, i) => lines.push(`  wave ${i + 1}: ${w.join(', ')}`));
  lines.push('', 'Estimated duration, both regions in one StackSet operation (typical; range):');
  const width = Math.max(...plan.scenarios.map((s) => s.title.length));
  for (const s of plan.scenarios) {
    lines.push(`  ${s.title.padEnd(width)}  ${formatDuration(s.seconds)}  (${rangeText(s)})  ${verdict(s)}`);
  }
  for (const s of plan.scenarios) {
    lines.push(
      '',
      `${s.title}: ${s.description}`,
      `  primary region ${formatDuration(s.regionSeconds.primary)}, secondary region ${formatDuration(s.regionSeconds.secondary)}; critical path:`,
    );
    for (const p of s.path) lines.push(`  ${formatDuration(p.seconds).padStart(8)}  ${p.id}${where(p)} (${p.kind}): ${p.note}`);
    lines.push(`  ${formatDuration(s.seconds).padStart(8)}  total (${rangeText(s)})`);
    const changed = Object.entries(s.changedResources);
    if (changed.length > 0) lines.push(`  changes: ${changed.map(([t, ids]) => `${t}: ${ids.join(', ')}`).join('; ')}`);
  }
  lines.push('', 'What moves the estimates:');
  for (const l of levers(plan)) lines.push(`  - ${l}`);
  lines.push('', 'Assumptions:');
  for (const a of plan.assumptions) lines.push(`  - ${a}`);
  lines.push('', 'Figures, their ranges and sources: docs/deployment-plan.md (from tools/review/timings.ts).');
  return `${lines.join('\n')}\n`;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|');

/** A Mermaid gantt chart of one scenario's typical timeline (seconds from the start of the operation). */
export function ganttChart(s: ScenarioPlan): string {
  const lines = ['```mermaid', 'gantt', `  title ${s.title}: both regions, one StackSet operation (typical)`, '  dateFormat X', '  axisFormat %M:%S'];
  const task = (name: string, critical: boolean, start: number, end: number): string => `  ${name.replace(/[:#;]/g, ' ')} :${critical ? 'crit, ' : ''}${Math.round(start)}, ${Math.round(end)}`;
  const stackSet = s.path.find((p) => p.kind === 'stack set');
  lines.push('  section StackSet', task('operation overhead', true, 0, stackSet?.seconds ?? 0));
  for (const region of REGIONS) {
    lines.push(`  section ${region} region`);
    for (const u of [...s.schedule].filter((x) => x.region === region).sort((a, b) => a.start - b.start || (a.id < b.id ? -1 : 1))) {
      lines.push(task(u.id, u.critical, u.start, u.end));
    }
  }
  lines.push('```');
  return lines.join('\n');
}

const basisOf = (b: Basis): string => b;

/** docs/deployment-plan.md: written by synth, compared by tests/tools/review/docs.test.ts. */
export function renderPlanMarkdown(plan: DeploymentPlan): string {
  const out: string[] = [
    '# Deployment plan',
    '',
    '<!-- Generated by `npm run synth` (tools/review/deploymentPlan.ts, tools/review/timings.ts). Do not edit: tests/tools/review/docs.test.ts fails when this file is stale. -->',
    '',
    'Estimated from the generated templates: the root\'s deployment waves, each nested template\'s',
    'dependency graph, and a table of typical creation and update times per resource type, each with',
    'its range and its source. Both regions are modelled together, as the one StackSet operation',
    '(PARALLEL region concurrency) deploys them. Print it with `npm run plan`. Estimates, not',
    'measurements: see the assumptions and the source of every figure below.',
    '',
    '## Deployment waves (each region)',
    '',
    ...plan.waves.map((w, i) => `${i + 1}. ${w.join(', ')}`),
    '',
    '## Estimated durations (both regions together)',
    '',
    '| Scenario | Typical | Range | Primary region | Secondary region | Target |',
    '| --- | --- | --- | --- | --- | --- |',
    ...plan.scenarios.map(
      (s) =>
        `| ${s.title} | ${formatDuration(s.seconds)} | ${formatDuration(s.range[0])} - ${formatDuration(s.range[1])} | ${formatDuration(s.regionSeconds.primary)} | ${formatDuration(s.regionSeconds.secondary)} | ${verdict(s)} |`,
    ),
  ];
  for (const key of ['first-deployment', 'image-update'] as const) {
    const s = plan.scenarios.find((x) => x.key === key);
    if (s !== undefined) out.push('', `### Timeline: ${s.title}`, '', 'Critical units are marked; times are minutes:seconds from the start of the operation.', '', ganttChart(s));
  }
  for (const s of plan.scenarios) {
    out.push('', `### ${s.title}`, '', s.description, '', '| Step | Region | Kind | Duration | Why |', '| --- | --- | --- | --- | --- |');
    for (const p of s.path) out.push(`| ${p.id} | ${p.region ?? ''} | ${p.kind} | ${formatDuration(p.seconds)} | ${cell(p.note)} |`);
    out.push(`| **total** | | | **${formatDuration(s.seconds)}** | ${rangeText(s)} |`);
    const changed = Object.entries(s.changedResources);
    if (changed.length > 0) out.push('', `Changed resources: ${changed.map(([t, ids]) => `${t}: ${ids.join(', ')}`).join('; ')}.`);
  }
  const first = plan.scenarios.find((s) => s.key === 'first-deployment');
  if (first !== undefined) {
    out.push('', '## Nested stacks on a first deployment (primary region)', '', '| Stack | Estimate | Longest chain inside |', '| --- | --- | --- |');
    for (const st of first.stacks) {
      out.push(`| ${st.name} | ${formatDuration(st.seconds)} | ${st.chain.map((c) => `${c.id} (${c.type}, ${c.seconds} s)`).join(' -> ')} |`);
    }
  }
  out.push('', '## What moves the estimates', '', ...levers(plan).map((l) => `- ${l}`));
  out.push('', '## Assumptions', '', ...plan.assumptions.map((a) => `- ${a}`));
  out.push('', '## Typical times per resource type', '', '| Type | Create (range) | Update (range) | Basis | Source |', '| --- | --- | --- | --- | --- |');
  for (const [type, t] of Object.entries(RESOURCE_TIMINGS).sort(([a], [b]) => a.localeCompare(b))) {
    out.push(
      `| ${type} | ${t.createSeconds} s (${t.createRange[0]}-${t.createRange[1]}) | ${t.updateSeconds} s (${t.updateRange[0]}-${t.updateRange[1]}) | ${basisOf(t.basis)} | ${cell(t.source)} |`,
    );
  }
  out.push('', '| Fixed cost | Seconds (range) | Basis | Source |', '| --- | --- | --- | --- |');
  const fixedNames: Record<keyof typeof OVERHEADS, string> = {
    nestedStack: 'Nested stack overhead',
    unchangedNestedStack: 'Unchanged nested stack in an update',
    stackSetOperation: 'StackSet operation',
    customResourceRoundTrip: 'Custom resource round trip',
    gatePollInterval: "Gate seeing a change in the other region",
  };
  for (const [k, o] of Object.entries(OVERHEADS) as Array<[keyof typeof OVERHEADS, (typeof OVERHEADS)[keyof typeof OVERHEADS]]>) {
    out.push(`| ${fixedNames[k]} | ${o.seconds} (${o.range[0]}-${o.range[1]}) | ${o.basis} | ${cell(o.source)} |`);
  }
  return `${out.join('\n')}\n`;
}
