/**
 * Deployment plan: the root's deployment waves and an estimated critical path,
 * per region, for a first deployment and for the common updates (new image,
 * alarm threshold, schema migration). Pure: templates in, plan out; the figures
 * come from timings.ts, each with its source.
 *
 * Model: CloudFormation starts every resource as soon as everything it depends
 * on (DependsOn, Ref, Fn::GetAtt, Fn::Sub) is complete, so a stack takes as long
 * as its longest dependency chain. A nested stack costs a fixed overhead plus
 * the longest chain inside its own template; the root's critical path is the
 * longest chain of nested stacks and custom resources, after the StackSet
 * operation has reached the stack instance.
 */
import { JsonObject } from '../lib/template';
import { NESTED_STACK_TYPE, deploymentWaves, isCustomResourceType, referencedIds, resourceGraph } from '../lib/graph';
import { ROOT_TEMPLATE_NAME } from '../stacks';
import { DEFAULT_BAKE_MINUTES, OVERHEADS, RESOURCE_TIMINGS, hasTiming, timingFor } from './timings';
import { DEPLOYMENT_GATE as GATE_ID, SCHEMA_MIGRATION as MIGRATION_ID } from '../root';

/** Root logical IDs (and Custom::<id> types) of the two custom resources the plan must know. */
export { GATE_ID, MIGRATION_ID };
/** Root parameter carrying the image every function runs (issue 4). */
export const IMAGE_PARAMETER = 'ImageUri';

const isGate = (id: string, type: string): boolean => id === GATE_ID || type === `Custom::${GATE_ID}`;
const isMigration = (id: string, type: string): boolean => id === MIGRATION_ID || type === `Custom::${MIGRATION_ID}`;

export type ScenarioKey = 'first-deployment' | 'image-update' | 'alarm-threshold' | 'schema-migration';

interface ScenarioDef {
  readonly key: ScenarioKey;
  readonly title: string;
  readonly description: string;
  readonly mode: 'create' | 'update';
  /** Update mode: the nested resources that change. */
  readonly changes?: (resource: JsonObject, template: JsonObject) => boolean;
  /** Update mode: the root custom resources that run (the gate runs on every update: its DeploymentStamp changes). */
  readonly runs?: (id: string, type: string) => boolean;
  /** Acceptance target for the per-region estimate (issue 9). */
  readonly targetSeconds?: number;
}

const propertiesOf = (r: JsonObject): JsonObject => (r.Properties ?? {}) as JsonObject;
const parameterNames = (t: JsonObject): string[] => Object.keys((t.Parameters ?? {}) as JsonObject);

export const SCENARIOS: readonly ScenarioDef[] = [
  {
    key: 'first-deployment',
    title: 'First deployment',
    description: 'Every nested stack and custom resource is created; the gate bakes once at the end.',
    mode: 'create',
    targetSeconds: 15 * 60,
  },
  {
    key: 'image-update',
    title: 'New image',
    description: `Only ${IMAGE_PARAMETER} changes: every function that references it updates its code in place, then the gate bakes.`,
    mode: 'update',
    changes: (r) => referencedIds(propertiesOf(r)).has(IMAGE_PARAMETER),
    runs: (id, type) => isGate(id, type),
    targetSeconds: 5 * 60,
  },
  {
    key: 'alarm-threshold',
    title: 'Alarm threshold',
    description: 'An alarm threshold parameter changes: the alarms whose Threshold comes from a parameter update in place (the estimate is the same for one or all of them: they update in parallel), then the gate bakes.',
    mode: 'update',
    changes: (r, t) => {
      if (r.Type !== 'AWS::CloudWatch::Alarm') return false;
      const refs = referencedIds(propertiesOf(r).Threshold);
      return parameterNames(t).some((p) => refs.has(p));
    },
    runs: (id, type) => isGate(id, type),
  },
  {
    key: 'schema-migration',
    title: 'Schema migration',
    description: `A new migration file changes ${MIGRATION_ID}'s migrations hash: the migration runs, then the gate bakes. No nested template changes.`,
    mode: 'update',
    changes: () => false,
    runs: (id, type) => isGate(id, type) || isMigration(id, type),
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
  readonly kind: 'stack set' | 'nested stack' | 'custom resource' | 'resource';
  readonly seconds: number;
  readonly note: string;
}

export interface ScenarioPlan {
  readonly key: ScenarioKey;
  readonly title: string;
  readonly description: string;
  /** Per region (one stack instance). */
  readonly seconds: number;
  readonly targetSeconds?: number;
  readonly path: readonly PathStep[];
  readonly stacks: readonly StackEstimate[];
  /** Nested resources the scenario changes, by template (update scenarios). */
  readonly changedResources: Readonly<Record<string, readonly string[]>>;
}

export interface DeploymentPlan {
  readonly waves: readonly (readonly string[])[];
  readonly bakeMinutes: number;
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

/** A nested stack's estimate for one scenario. */
export function nestedStackEstimate(name: string, template: JsonObject, scenario: ScenarioDef): StackEstimate {
  const resources = resourcesOf(template);
  const changed = new Set(
    Object.entries(resources)
      .filter(([, r]) => scenario.mode === 'create' || (scenario.changes?.(r, template) ?? false))
      .map(([id]) => id),
  );
  if (changed.size === 0) return { name, seconds: OVERHEADS.unchangedNestedStackSeconds, changed: false, chain: [] };
  const weight = (id: string): number => {
    if (!changed.has(id)) return 0;
    const r = resources[id];
    const timing = timingFor(typeOf(r), r.Properties as JsonObject | undefined);
    return scenario.mode === 'create' ? timing.createSeconds : timing.updateSeconds;
  };
  const { seconds, path } = longestPath(resourceGraph(template), weight);
  const chain = path.filter((id) => weight(id) > 0).map((id) => ({ id, type: typeOf(resources[id]), seconds: weight(id) }));
  return { name, seconds: OVERHEADS.nestedStackSeconds + seconds, changed: true, chain };
}

/** The gate's bake minutes: its BakeMinutes property, a literal or a Ref to a root parameter with a Default. */
export function bakeMinutesOf(root: JsonObject): number {
  const gate = Object.entries(resourcesOf(root)).find(([id, r]) => isGate(id, typeOf(r)));
  const value = gate === undefined ? undefined : propertiesOf(gate[1]).BakeMinutes;
  const ref = value !== null && typeof value === 'object' && !Array.isArray(value) ? value.Ref : undefined;
  const resolved = typeof ref === 'string' ? ((root.Parameters ?? {}) as Record<string, JsonObject>)[ref]?.Default : value;
  const minutes = Number(resolved);
  return resolved === undefined || resolved === null || Number.isNaN(minutes) ? DEFAULT_BAKE_MINUTES : minutes;
}

function scenarioPlan(templates: ReadonlyMap<string, JsonObject>, root: JsonObject, scenario: ScenarioDef, bakeMinutes: number): ScenarioPlan {
  const resources = resourcesOf(root);
  const stacks = new Map<string, StackEstimate>();
  const changedResources: Record<string, string[]> = {};
  for (const [id, r] of Object.entries(resources)) {
    if (typeOf(r) !== NESTED_STACK_TYPE) continue;
    const nested = templates.get(id);
    if (nested === undefined) throw new Error(`plan: ${ROOT_TEMPLATE_NAME} nests ${id}, but there is no template named ${id}`);
    const estimate = nestedStackEstimate(id, nested, scenario);
    stacks.set(id, estimate);
    if (scenario.mode === 'update' && estimate.changed) {
      changedResources[id] = Object.entries(resourcesOf(nested))
        .filter(([, res]) => scenario.changes?.(res, nested) ?? false)
        .map(([rid]) => rid)
        .sort();
    }
  }

  const step = (id: string): PathStep => {
    const r = resources[id];
    const type = typeOf(r);
    const stack = stacks.get(id);
    if (stack !== undefined) {
      const note = stack.changed
        ? `${OVERHEADS.nestedStackSeconds} s overhead + ${stack.chain.map((c) => `${c.id} ${c.seconds} s`).join(' -> ')}`
        : 'unchanged: update without resource changes';
      return { id, kind: 'nested stack', seconds: stack.seconds, note };
    }
    if (isCustomResourceType(type)) {
      const runs = scenario.mode === 'create' || (scenario.runs?.(id, type) ?? false);
      if (!runs) return { id, kind: 'custom resource', seconds: 0, note: 'does not run' };
      if (isGate(id, type)) {
        return { id, kind: 'custom resource', seconds: bakeMinutes * 60 + OVERHEADS.customResourceRoundTripSeconds, note: `bake ${bakeMinutes} min + ${OVERHEADS.customResourceRoundTripSeconds} s round trip` };
      }
      const timing = RESOURCE_TIMINGS[type] ?? RESOURCE_TIMINGS[`Custom::${id}`] ?? timingFor(type, undefined);
      const seconds = scenario.mode === 'create' ? timing.createSeconds : timing.updateSeconds;
      return { id, kind: 'custom resource', seconds, note: timing.basis };
    }
    if (scenario.mode === 'update') return { id, kind: 'resource', seconds: 0, note: 'unchanged' };
    const timing = timingFor(type, r.Properties as JsonObject | undefined);
    return { id, kind: 'resource', seconds: timing.createSeconds, note: type };
  };
  const steps = new Map(Object.keys(resources).map((id) => [id, step(id)]));
  const { seconds, path } = longestPath(resourceGraph(root), (id) => steps.get(id)?.seconds ?? 0);
  const stackSet: PathStep = {
    id: 'StackSet operation',
    kind: 'stack set',
    seconds: OVERHEADS.stackSetInstanceSeconds,
    note: 'the operation reaches this region\'s stack instance',
  };
  return {
    key: scenario.key,
    title: scenario.title,
    description: scenario.description,
    seconds: OVERHEADS.stackSetInstanceSeconds + seconds,
    targetSeconds: scenario.targetSeconds,
    path: [stackSet, ...path.map((id) => steps.get(id) as PathStep).filter((s) => s.seconds > 0)],
    stacks: [...stacks.values()],
    changedResources,
  };
}

export function deploymentPlan(templates: ReadonlyMap<string, JsonObject>, rootName: string = ROOT_TEMPLATE_NAME): DeploymentPlan {
  const root = templates.get(rootName);
  if (root === undefined) throw new Error(`plan: no root template named ${rootName}`);
  const bakeMinutes = bakeMinutesOf(root);
  const scenarios = SCENARIOS.map((s) => scenarioPlan(templates, root, s, bakeMinutes));
  const defaultedTypes = [
    ...new Set(
      [...templates.values()]
        .flatMap((t) => Object.values(resourcesOf(t)).map(typeOf))
        .filter((type) => type !== NESTED_STACK_TYPE && !hasTiming(type) && !(isCustomResourceType(type) && type === `Custom::${GATE_ID}`)),
    ),
  ].sort();
  const hasGate = Object.entries(resourcesOf(root)).some(([id, r]) => isGate(id, typeOf(r)));
  const assumptions = [
    'Per region: one StackSet stack instance. The StackSet deploys the regions one after another (secondary first, max concurrency 1), so a release across both regions takes about twice the per-region figure.',
    'Every conditional resource exists (primary region, DNS failover on, secret rotation on, alarm e-mail on): an upper bound. The secondary region creates no global table; without a hosted zone there is no DnsStack.',
    `A nested stack takes ${OVERHEADS.nestedStackSeconds} s of overhead plus the longest dependency chain inside its template (DependsOn, Ref, Fn::GetAtt, Fn::Sub); resources with no dependency between them are created in parallel, as CloudFormation does.`,
    `In an update, CloudFormation updates every nested stack but changes only the resources of modified ones; an unmodified nested stack is counted as ${OVERHEADS.unchangedNestedStackSeconds} s.`,
    hasGate
      ? `The deployment gate bakes for ${bakeMinutes} min (BakeMinutes default in ${ROOT_TEMPLATE_NAME}) on create and on every update, plus ${OVERHEADS.customResourceRoundTripSeconds} s for the custom-resource round trip; it runs last.`
      : `${ROOT_TEMPLATE_NAME} has no ${GATE_ID} yet: no bake is counted.`,
    `The StackSet operation needs about ${OVERHEADS.stackSetInstanceSeconds} s to reach a stack instance. Pulumi's own work before it (image build and push, template upload) is not counted.`,
    'Per-resource figures: the timing table below; most are engineering estimates (typical CloudFormation event timings), labelled as such. Aurora dominates a first deployment: AWS gives 10-20 min for cluster plus instance, and the plan assumes 12.',
    defaultedTypes.length === 0
      ? 'Every resource type in the templates has a row in the timing table.'
      : `Types without a row in the timing table count as ${timingFor('', undefined).createSeconds} s: ${defaultedTypes.join(', ')}.`,
  ];
  return { waves: deploymentWaves(root), bakeMinutes, scenarios, assumptions, defaultedTypes };
}

/** `12m 05s`. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}

/** `under the 15 min target`, `NOT under ...`, or '' for a scenario without a target. */
export const verdict = (s: ScenarioPlan): string =>
  s.targetSeconds === undefined ? '' : s.seconds < s.targetSeconds ? `under the ${s.targetSeconds / 60} min target` : `NOT under the ${s.targetSeconds / 60} min target`;

/**
 * What moves the estimates, computed from the plan itself: the bake is on
 * every path, and a first deployment waits for its longest nested stack.
 */
export function levers(plan: DeploymentPlan): string[] {
  const out: string[] = [];
  const bake = plan.bakeMinutes * 60;
  const first = plan.scenarios.find((s) => s.key === 'first-deployment');
  const image = plan.scenarios.find((s) => s.key === 'image-update');
  const gated = (s: ScenarioPlan | undefined): boolean => s !== undefined && s.path.some((p) => p.id === GATE_ID);
  if (bake > 0 && gated(image) && image !== undefined) {
    out.push(
      `The gate's bake (${plan.bakeMinutes} min) is on every path. With BakeMinutes 1 (\`pulumi config set tap:bakeMinutes 1\`) the image update would take ${formatDuration(image.seconds - bake + 60)}; with 0, ${formatDuration(image.seconds - bake)}.`,
    );
  }
  if (bake > 0 && gated(first) && first !== undefined) {
    out.push(
      `A first deployment bakes a new environment whose alarms have no data yet (INSUFFICIENT_DATA counts as healthy). A gate that skipped the bake on Create would bring it to ${formatDuration(first.seconds - bake)}.`,
    );
  }
  if (first !== undefined) {
    const stacks = first.path.filter((p) => p.kind === 'nested stack');
    const longest = [...stacks].sort((a, b) => b.seconds - a.seconds)[0];
    if (longest !== undefined) {
      const before = stacks.slice(0, stacks.indexOf(longest));
      out.push(
        `The first deployment's longest step is ${longest.id} (${formatDuration(longest.seconds)}: ${longest.note})${
          before.length === 0 ? '' : `, which starts only after ${before.map((p) => `${p.id} (${formatDuration(p.seconds)})`).join(', ')} completes as a whole`
        }. It can only get shorter by starting earlier or by a faster chain inside it.`,
      );
    }
  }
  return out;
}

/** What `npm run plan` prints. */
export function formatPlan(plan: DeploymentPlan): string {
  const lines: string[] = ['Deployment waves (per region):'];
  plan.waves.forEach((w, i) => lines.push(`  wave ${i + 1}: ${w.join(', ')}`));
  lines.push('', 'Estimated critical paths (per region; both regions run one after another):');
  const width = Math.max(...plan.scenarios.map((s) => s.title.length));
  for (const s of plan.scenarios) {
    lines.push(`  ${s.title.padEnd(width)}  ${formatDuration(s.seconds)}  (both regions ~${formatDuration(2 * s.seconds)})  ${verdict(s)}`.trimEnd());
  }
  for (const s of plan.scenarios) {
    lines.push('', `${s.title}: ${s.description}`);
    for (const p of s.path) lines.push(`  ${formatDuration(p.seconds).padStart(8)}  ${p.id} (${p.kind}): ${p.note}`);
    lines.push(`  ${formatDuration(s.seconds).padStart(8)}  total`);
    const changed = Object.entries(s.changedResources);
    if (changed.length > 0) lines.push(`  changes: ${changed.map(([t, ids]) => `${t}: ${ids.join(', ')}`).join('; ')}`);
  }
  lines.push('', 'What moves the estimates:');
  for (const l of levers(plan)) lines.push(`  - ${l}`);
  lines.push('', 'Assumptions:');
  for (const a of plan.assumptions) lines.push(`  - ${a}`);
  lines.push('', 'Figures and their sources: docs/deployment-plan.md (from cfn/review/timings.ts).');
  return `${lines.join('\n')}\n`;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|');

/** docs/deployment-plan.md: written by synth, compared by tests/review/docs.test.ts. */
export function renderPlanMarkdown(plan: DeploymentPlan): string {
  const out: string[] = [
    '# Deployment plan',
    '',
    '<!-- Generated by `npm run synth` (cfn/review/plan.ts, cfn/review/timings.ts). Do not edit: tests/review/docs.test.ts fails when this file is stale. -->',
    '',
    'Estimated from the generated templates: the root\'s deployment waves, each nested template\'s',
    'dependency graph, and a table of typical creation and update times per resource type.',
    'Print it with `npm run plan`. Estimates, not measurements: see the assumptions and the',
    'basis of every figure below.',
    '',
    '## Deployment waves (per region)',
    '',
    ...plan.waves.map((w, i) => `${i + 1}. ${w.join(', ')}`),
    '',
    '## Estimated critical paths',
    '',
    '| Scenario | Per region | Both regions (sequential) | Target |',
    '| --- | --- | --- | --- |',
    ...plan.scenarios.map(
      (s) => `| ${s.title} | ${formatDuration(s.seconds)} | ~${formatDuration(2 * s.seconds)} | ${s.targetSeconds === undefined ? '' : verdict(s)} |`,
    ),
  ];
  for (const s of plan.scenarios) {
    out.push('', `### ${s.title}`, '', s.description, '', '| Step | Kind | Duration | Why |', '| --- | --- | --- | --- |');
    for (const p of s.path) out.push(`| ${p.id} | ${p.kind} | ${formatDuration(p.seconds)} | ${cell(p.note)} |`);
    out.push(`| **total** | | **${formatDuration(s.seconds)}** | |`);
    const changed = Object.entries(s.changedResources);
    if (changed.length > 0) out.push('', `Changed resources: ${changed.map(([t, ids]) => `${t}: ${ids.join(', ')}`).join('; ')}.`);
  }
  const first = plan.scenarios.find((s) => s.key === 'first-deployment');
  if (first !== undefined) {
    out.push('', '## Nested stacks on a first deployment', '', '| Stack | Estimate | Longest chain inside |', '| --- | --- | --- |');
    for (const st of first.stacks) {
      out.push(`| ${st.name} | ${formatDuration(st.seconds)} | ${st.chain.map((c) => `${c.id} (${c.type}, ${c.seconds} s)`).join(' -> ')} |`);
    }
  }
  out.push('', '## What moves the estimates', '', ...levers(plan).map((l) => `- ${l}`));
  out.push('', '## Assumptions', '', ...plan.assumptions.map((a) => `- ${a}`));
  out.push('', '## Typical times per resource type', '', '| Type | Create | Update | Basis | Source |', '| --- | --- | --- | --- | --- |');
  for (const [type, t] of Object.entries(RESOURCE_TIMINGS).sort(([a], [b]) => a.localeCompare(b))) {
    out.push(`| ${type} | ${t.createSeconds} s | ${t.updateSeconds} s | ${t.basis} | ${cell(t.source)} |`);
  }
  const fixed = [
    ['Nested stack overhead', OVERHEADS.nestedStackSeconds],
    ['Unchanged nested stack in an update', OVERHEADS.unchangedNestedStackSeconds],
    ['StackSet operation reaching a stack instance', OVERHEADS.stackSetInstanceSeconds],
    ['Custom resource round trip', OVERHEADS.customResourceRoundTripSeconds],
  ] as const;
  out.push('', '| Fixed cost | Seconds | Basis |', '| --- | --- | --- |', ...fixed.map(([what, s]) => `| ${what} | ${s} | engineering estimate |`));
  return `${out.join('\n')}\n`;
}
