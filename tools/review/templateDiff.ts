/**
 * What CloudFormation will do, template by template, when the head templates
 * replace the base ones. Pure: template texts in, a review out. The resource
 * diff and each change's impact (update, replacement, destruction) come from
 * @aws-cdk/cloudformation-diff, which reads replacement behaviour from AWS's
 * resource specification; tap adds what a StackSet reviewer cannot see in
 * `pulumi preview`: which stateful resources lose their data, which nested
 * stacks change, and which exports CloudFormation will refuse to change.
 */
import { fullDiff, ResourceImpact, TemplateDiff } from '@aws-cdk/cloudformation-diff';
import { Json, JsonObject, canonicalize, renderTemplate } from '../../cfn/lib/template';
import { NESTED_STACK_TYPE, referencedIds } from '../../cfn/lib/graph';
import { ROOT_TEMPLATE_NAME } from '../../cfn/stacks';
import { factsFor } from '../validate/spec';
import { namePatternOf } from '../validate/validateCrossStack';
import { isObject } from '../validate/json';
import { exportSites, importersByExport } from './exportsTable';

/** Template name -> file text (cfn/templates/<name>.json or a template fetched from a stack). */
export type TemplateTexts = ReadonlyMap<string, string>;

/**
 * Stateful: a replacement or removal destroys data. The same predicate the
 * invariant validator uses (AWS's resource specification via
 * @aws-cdk/aws-service-spec, plus its supplement), so the two never disagree.
 */
export const isStatefulType = (type: string): boolean => factsFor(type)?.stateful ?? false;

/** Properties that set a resource's physical name (same source). */
export const nameProperties = (type: string): readonly string[] => factsFor(type)?.nameProperties ?? [];

export type ResourceAction = 'add' | 'remove' | 'update' | 'replace' | 'may-replace' | 'orphan';

export interface PropertyChange {
  /** `Properties.X` or a resource attribute (DependsOn, DeletionPolicy, Metadata...). */
  readonly name: string;
  readonly replacement: 'will' | 'may' | undefined;
  readonly oldValue: Json | undefined;
  readonly newValue: Json | undefined;
}

export interface ResourceChange {
  readonly template: string;
  readonly logicalId: string;
  readonly type: string;
  readonly action: ResourceAction;
  readonly stateful: boolean;
  /** A stateful resource replaced (or possibly replaced) or removed. */
  readonly dataAtRisk: boolean;
  /** UpdateReplacePolicy for a replacement, DeletionPolicy for a removal, as declared. */
  readonly policy: string | undefined;
  /** Name properties that stay the same across a replacement: CloudFormation refuses that update. */
  readonly sameNameReplacement: readonly string[];
  readonly properties: readonly PropertyChange[];
}

export interface EntryChange {
  readonly id: string;
  readonly action: 'add' | 'remove' | 'update';
  readonly oldValue: Json | undefined;
  readonly newValue: Json | undefined;
}

export type TemplateStatus = 'new' | 'removed' | 'modified' | 'unchanged';

export interface TemplateReview {
  readonly name: string;
  readonly status: TemplateStatus;
  readonly resources: readonly ResourceChange[];
  readonly parameters: readonly EntryChange[];
  readonly outputs: readonly EntryChange[];
  /** Conditions, mappings, metadata, description and the like. */
  readonly other: readonly EntryChange[];
}

export interface ExportConflict {
  /** Export name as an Fn::Sub pattern, e.g. `tap-${EnvironmentSuffix}-VpcId`. */
  readonly exportName: string;
  readonly exporter: string;
  readonly importers: readonly string[];
  readonly reason: string;
}

export interface ReviewDiff {
  readonly root: string;
  readonly templates: readonly TemplateReview[];
  /** Nested stacks whose template bytes change: their content-addressed TemplateURL changes, CloudFormation updates them. */
  readonly nestedUpdated: readonly string[];
  /** Nested stacks with identical bytes: CloudFormation changes none of their resources. */
  readonly nestedUnchanged: readonly string[];
  readonly nestedNew: readonly string[];
  readonly nestedRemoved: readonly string[];
  readonly exportConflicts: readonly ExportConflict[];
}

export interface ReviewOptions {
  /** @default ROOT_TEMPLATE_NAME (TapStack) */
  readonly rootTemplate?: string;
  /** @default isStatefulType (AWS's resource specification) */
  readonly isStateful?: (type: string) => boolean;
}

function parse(side: string, name: string, text: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`${side} template ${name} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (!isObject(value as Json)) throw new Error(`${side} template ${name} is not a JSON object`);
  return value as JsonObject;
}

/** The bytes synth would write for this template: formatting of a fetched template does not count as a change. */
const canonicalText = (t: JsonObject): string => renderTemplate(canonicalize(t) as JsonObject);

const clone = (t: JsonObject): JsonObject => JSON.parse(JSON.stringify(t)) as JsonObject;

const ACTIONS: Partial<Record<ResourceImpact, ResourceAction>> = {
  [ResourceImpact.WILL_CREATE]: 'add',
  [ResourceImpact.WILL_IMPORT]: 'add',
  [ResourceImpact.WILL_DESTROY]: 'remove',
  [ResourceImpact.WILL_ORPHAN]: 'orphan',
  [ResourceImpact.WILL_UPDATE]: 'update',
  [ResourceImpact.WILL_REPLACE]: 'replace',
  [ResourceImpact.MAY_REPLACE]: 'may-replace',
};

function resourceChanges(name: string, diff: TemplateDiff, isStateful: (type: string) => boolean): ResourceChange[] {
  const out: ResourceChange[] = [];
  diff.resources.forEachDifference((logicalId, change) => {
    const oldRes = change.oldValue as JsonObject | undefined;
    const newRes = change.newValue as JsonObject | undefined;
    const type = String(newRes?.Type ?? oldRes?.Type);
    const oldType = String(oldRes?.Type ?? type);
    const action = ACTIONS[change.changeImpact] ?? (change.isAddition ? 'add' : change.isRemoval ? 'remove' : 'update');
    const properties: PropertyChange[] = [];
    change.forEachDifference((kind, prop, d) => {
      const impact = (d as { changeImpact?: ResourceImpact }).changeImpact;
      properties.push({
        name: kind === 'Property' ? `Properties.${prop}` : prop,
        replacement: impact === ResourceImpact.WILL_REPLACE ? 'will' : impact === ResourceImpact.MAY_REPLACE ? 'may' : undefined,
        oldValue: d.oldValue as Json | undefined,
        newValue: d.newValue as Json | undefined,
      });
    });
    const replaced = action === 'replace' || action === 'may-replace';
    const stateful = isStateful(oldType) || isStateful(type);
    const policyKey = action === 'remove' || action === 'orphan' ? 'DeletionPolicy' : 'UpdateReplacePolicy';
    const policy = oldRes?.[policyKey];
    const oldProps = (oldRes?.Properties ?? {}) as JsonObject;
    const newProps = (newRes?.Properties ?? {}) as JsonObject;
    const sameNameReplacement = replaced
      ? nameProperties(type).filter((p) => oldProps[p] !== undefined && JSON.stringify(oldProps[p]) === JSON.stringify(newProps[p]))
      : [];
    out.push({
      template: name,
      logicalId,
      type,
      action,
      stateful,
      dataAtRisk: stateful && (replaced || action === 'remove'),
      policy: typeof policy === 'string' ? policy : undefined,
      sameNameReplacement,
      properties,
    });
  });
  return out.sort((a, b) => a.logicalId.localeCompare(b.logicalId));
}

function entryChanges(collection: { forEachDifference(cb: (id: string, d: { oldValue: unknown; newValue: unknown; isAddition: boolean; isRemoval: boolean }) => void): void }): EntryChange[] {
  const out: EntryChange[] = [];
  collection.forEachDifference((id, d) => {
    out.push({ id, action: d.isAddition ? 'add' : d.isRemoval ? 'remove' : 'update', oldValue: d.oldValue as Json, newValue: d.newValue as Json });
  });
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

function otherChanges(diff: TemplateDiff): EntryChange[] {
  const out: EntryChange[] = [];
  for (const [section, collection] of [
    ['Conditions', diff.conditions],
    ['Mappings', diff.mappings],
    ['Metadata', diff.metadata],
  ] as const) {
    for (const c of entryChanges(collection)) out.push({ ...c, id: `${section}.${c.id}` });
  }
  for (const [field, d] of [
    ['Description', diff.description],
    ['Transform', diff.transform],
    ['AWSTemplateFormatVersion', diff.awsTemplateFormatVersion],
  ] as const) {
    if (d?.isDifferent) out.push({ id: field, action: d.isAddition ? 'add' : d.isRemoval ? 'remove' : 'update', oldValue: d.oldValue as Json, newValue: d.newValue as Json });
  }
  return out;
}

/**
 * Exports that stacks import today (base) and that the head removes or changes.
 * CloudFormation updates the exporter before its importers and refuses:
 * "Export ... cannot be updated as it is in use by ..."
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-stack-exports.html).
 */
function exportConflicts(
  base: ReadonlyMap<string, JsonObject>,
  head: ReadonlyMap<string, JsonObject>,
  resources: readonly ResourceChange[],
): ExportConflict[] {
  const baseExports = exportSites(base);
  const headExports = exportSites(head);
  const importers = importersByExport(base);
  const out: ExportConflict[] = [];
  for (const [name, site] of [...baseExports].sort(([a], [b]) => a.localeCompare(b))) {
    const users = [...(importers.get(name) ?? [])].filter((t) => t !== site.template).sort();
    if (users.length === 0) continue;
    const now = headExports.get(name);
    let reason: string | undefined;
    if (now === undefined) reason = `${site.template} no longer exports it (output ${site.output} removed or its export renamed)`;
    else if (now.template !== site.template) reason = `the export moves from ${site.template} to ${now.template}`;
    else if (JSON.stringify(now.definition.Value) !== JSON.stringify(site.definition.Value)) reason = `the value of output ${now.output} changes: ${show(site.definition.Value)} -> ${show(now.definition.Value)}`;
    else {
      const replaced = resources.filter(
        (r) => r.template === site.template && (r.action === 'replace' || r.action === 'may-replace') && referencedIds(site.definition.Value).has(r.logicalId),
      );
      if (replaced.length > 0) {
        reason = `its value comes from ${replaced.map((r) => r.logicalId).join(', ')}, which ${replaced.length === 1 ? 'is' : 'are'} ${replaced.some((r) => r.action === 'replace') ? '' : 'possibly '}replaced, so the value changes`;
      }
    }
    if (reason !== undefined) out.push({ exportName: name, exporter: site.template, importers: users, reason });
  }
  return out;
}

/** Compares every template of the head with the base; a template absent from one side is new or removed. */
export function reviewDiff(base: TemplateTexts, head: TemplateTexts, options: ReviewOptions = {}): ReviewDiff {
  const root = options.rootTemplate ?? ROOT_TEMPLATE_NAME;
  const isStateful = options.isStateful ?? isStatefulType;
  const baseT = new Map([...base].map(([n, text]) => [n, parse('base', n, text)]));
  const headT = new Map([...head].map(([n, text]) => [n, parse('head', n, text)]));
  const names = [...new Set([...headT.keys(), ...baseT.keys()])].sort((a, b) => (a === root ? 1 : b === root ? -1 : a.localeCompare(b)));

  const templates: TemplateReview[] = [];
  for (const name of names) {
    const b = baseT.get(name);
    const h = headT.get(name);
    const status: TemplateStatus =
      b === undefined ? 'new' : h === undefined ? 'removed' : canonicalText(b) === canonicalText(h) ? 'unchanged' : 'modified';
    if (status === 'unchanged') {
      templates.push({ name, status, resources: [], parameters: [], outputs: [], other: [] });
      continue;
    }
    const diff = fullDiff(clone(b ?? {}), clone(h ?? {}));
    templates.push({
      name,
      status,
      resources: resourceChanges(name, diff, isStateful),
      parameters: entryChanges(diff.parameters),
      outputs: entryChanges(diff.outputs),
      other: status === 'modified' ? otherChanges(diff) : [],
    });
  }
  const nested = templates.filter((t) => t.name !== root);
  const byStatus = (s: TemplateStatus): string[] => nested.filter((t) => t.status === s).map((t) => t.name);
  return {
    root,
    templates,
    nestedUpdated: byStatus('modified'),
    nestedUnchanged: byStatus('unchanged'),
    nestedNew: byStatus('new'),
    nestedRemoved: byStatus('removed'),
    exportConflicts: exportConflicts(baseT, headT, templates.flatMap((t) => t.resources)),
  };
}

/** Every stateful resource that a replacement or removal would destroy. */
export const dataAtRisk = (diff: ReviewDiff): ResourceChange[] => diff.templates.flatMap((t) => t.resources.filter((r) => r.dataAtRisk));

export const EXIT_REPLACEMENT = 2;

/** 2 when `failOnReplacement` is set and a stateful resource is replaced, possibly replaced or removed; else 0. */
export function exitCode(diff: ReviewDiff, options: { readonly failOnReplacement: boolean }): number {
  return options.failOnReplacement && dataAtRisk(diff).length > 0 ? EXIT_REPLACEMENT : 0;
}

// ---------------------------------------------------------------------------
// Printing

const MAX_VALUE = 110;
const MAX_LEAVES = 8;

/** Compact JSON, shortened. */
export function show(value: Json | undefined): string {
  if (value === undefined) return '(none)';
  const s = JSON.stringify(value);
  return s.length > MAX_VALUE ? `${s.slice(0, MAX_VALUE - 1)}…` : s;
}

/** The leaf paths where two JSON values differ (`.SubnetIds[1]`), so a big property shows only what changed. */
export function leafChanges(a: Json | undefined, b: Json | undefined, path = ''): Array<{ path: string; oldValue: Json | undefined; newValue: Json | undefined }> {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const bothArrays = Array.isArray(a) && Array.isArray(b) && a.length === b.length;
  const bothObjects = isObject(a) && isObject(b) && !isIntrinsic(a) && !isIntrinsic(b);
  if (bothArrays) return a.flatMap((v, i) => leafChanges(v, b[i], `${path}[${i}]`));
  if (bothObjects) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => leafChanges(a[k], b[k], `${path}.${k}`));
  }
  return [{ path, oldValue: a, newValue: b }];
}

/** `Number, default 512` for a parameter definition. */
function parameterSummary(def: Json | undefined): string {
  if (!isObject(def)) return show(def);
  return `${String(def.Type)}${def.Default === undefined ? '' : `, default ${show(def.Default)}`}`;
}

/** `= <value>, export <name>` for an output. */
function outputSummary(o: Json | undefined): string {
  if (!isObject(o)) return show(o);
  const exported = isObject(o.Export) ? namePatternOf(o.Export.Name) : undefined;
  return `= ${show(o.Value)}${exported === undefined ? '' : `, export ${exported}`}`;
}

const isIntrinsic = (v: JsonObject): boolean => Object.keys(v).length === 1 && (Object.keys(v)[0] === 'Ref' || Object.keys(v)[0].startsWith('Fn::'));

export interface FormatOptions {
  /** ANSI colours (the CLI sets it for a terminal). @default false */
  readonly color?: boolean;
  /** How the base was read, for the header. */
  readonly baseLabel?: string;
  /** How the head was read, for the header. @default a fresh synth */
  readonly headLabel?: string;
}

const SYMBOL: Record<ResourceAction | EntryChange['action'], string> = {
  add: '[+]',
  remove: '[-]',
  update: '[~]',
  replace: '[!]',
  'may-replace': '[?]',
  orphan: '[o]',
};

const LABEL: Record<ResourceAction, string> = {
  add: 'add',
  remove: 'REMOVE',
  update: 'update in place',
  replace: 'REPLACE',
  'may-replace': 'MAY REPLACE',
  orphan: 'remove from stack, keep (Retain)',
};

/** What happens to the old resource's data, from its policy. */
export function consequence(r: ResourceChange): string {
  const removed = r.action === 'remove';
  const attr = removed ? 'DeletionPolicy' : 'UpdateReplacePolicy';
  const policy = r.policy ?? `none declared (CloudFormation's default for ${r.type})`;
  const fate =
    r.type === NESTED_STACK_TYPE
      ? 'CloudFormation deletes the nested stack and EVERY resource in it'
      : r.policy === 'Snapshot'
      ? `CloudFormation snapshots it, then deletes it${removed ? '' : '; the new one starts EMPTY (restore from the snapshot by hand)'}`
      : r.policy === 'Retain'
        ? 'CloudFormation keeps the old resource outside the stack'
        : `its data is DELETED${removed ? '' : ' and the new one starts EMPTY'}`;
  return `${attr} ${policy}: ${fate}`;
}

export function formatReview(diff: ReviewDiff, options: FormatOptions = {}): string {
  const c = options.color ?? false;
  const paint = (code: string, s: string): string => (c ? `\u001b[${code}m${s}\u001b[0m` : s);
  const red = (s: string): string => paint('1;31', s);
  const yellow = (s: string): string => paint('33', s);
  const green = (s: string): string => paint('32', s);
  const bold = (s: string): string => paint('1', s);
  const colorOf = (a: ResourceAction | EntryChange['action']): ((s: string) => string) =>
    a === 'add' ? green : a === 'update' ? yellow : red;

  const lines: string[] = [];
  const changed = diff.templates.filter((t) => t.status !== 'unchanged');
  const against = options.baseLabel === undefined ? '' : ` ${options.baseLabel} -> ${options.headLabel ?? 'a fresh synth'}`;
  lines.push(bold(`tap diff${against}: ${changed.length} of ${diff.templates.length} templates change`));

  for (const t of diff.templates) {
    if (t.status === 'unchanged') continue;
    const kind = t.name === diff.root ? 'root, the StackSet template body' : 'nested stack';
    lines.push('', bold(`=== ${t.name} (${kind}): ${t.status}`));
    if (t.resources.length > 0) lines.push('Resources');
    for (const r of t.resources) {
      const flag = r.dataAtRisk ? red(`  <<< STATEFUL: DATA AT RISK (${consequence(r)})`) : '';
      lines.push(colorOf(r.action)(`  ${SYMBOL[r.action]} ${r.type} ${r.logicalId}: ${LABEL[r.action]}`) + flag);
      if (r.sameNameReplacement.length > 0) {
        lines.push(
          red(`      CloudFormation will refuse this: a custom-named resource cannot be replaced under the same name (${r.sameNameReplacement.join(', ')} unchanged); change the name as well`),
        );
      }
      if (r.action === 'add' || r.action === 'remove' || r.action === 'orphan') continue;
      for (const p of r.properties) {
        const why = p.replacement === 'will' ? red(' (requires replacement)') : p.replacement === 'may' ? red(' (may cause replacement)') : '';
        const leaves = leafChanges(p.oldValue, p.newValue);
        if (leaves.length === 1) {
          lines.push(`      ${p.name}${leaves[0].path}: ${show(leaves[0].oldValue)} -> ${show(leaves[0].newValue)}${why}`);
          continue;
        }
        lines.push(`      ${p.name}${why}`);
        for (const l of leaves.slice(0, MAX_LEAVES)) lines.push(`        ${l.path}: ${show(l.oldValue)} -> ${show(l.newValue)}`);
        if (leaves.length > MAX_LEAVES) lines.push(`        … ${leaves.length - MAX_LEAVES} more`);
      }
    }
    if (t.status === 'new' || t.status === 'removed') {
      lines.push(`(${t.parameters.length} parameters, ${t.outputs.length} outputs ${t.status === 'new' ? 'added' : 'removed'})`);
      continue;
    }
    for (const [title, entries, summary] of [
      ['Parameters', t.parameters, parameterSummary],
      ['Outputs', t.outputs, outputSummary],
      ['Other', t.other, show],
    ] as const) {
      if (entries.length === 0) continue;
      lines.push(title);
      for (const e of entries) {
        const detail =
          e.action === 'add'
            ? summary(e.newValue)
            : e.action === 'remove'
              ? summary(e.oldValue)
              : leafChanges(e.oldValue, e.newValue).map((l) => `${l.path.replace(/^\./, '')}: ${show(l.oldValue)} -> ${show(l.newValue)}`).join('; ');
        lines.push(colorOf(e.action)(`  ${SYMBOL[e.action]} ${e.id}`) + ` ${detail}`);
      }
    }
  }

  lines.push('', bold('Nested stacks'));
  const list = (xs: readonly string[]): string => (xs.length === 0 ? '(none)' : xs.join(', '));
  lines.push(`  updated (template bytes, hence the content-addressed TemplateURL, change): ${list(diff.nestedUpdated)}`);
  if (diff.nestedNew.length > 0) lines.push(`  created: ${list(diff.nestedNew)}`);
  if (diff.nestedRemoved.length > 0) lines.push(red(`  DELETED with every resource in them: ${list(diff.nestedRemoved)}`));
  lines.push(`  left alone (same template; CloudFormation changes none of their resources unless a parameter value passed to them changes, e.g. ImageUri): ${list(diff.nestedUnchanged)}`);

  if (diff.exportConflicts.length > 0) {
    lines.push('', red(`Exports in use that would change (CloudFormation refuses: "Export ... cannot be updated as it is in use by ..."):`));
    for (const x of diff.exportConflicts) {
      lines.push(red(`  ${x.exportName} from ${x.exporter}, imported by ${x.importers.join(', ')}: ${x.reason}`));
    }
    lines.push('  Fix: stop importing it first (one deployment), then change or remove the export (a second deployment).');
  }

  const risky = dataAtRisk(diff);
  if (risky.length > 0) {
    const bar = '!'.repeat(78);
    lines.push('', red(bar), red(`!! DATA AT RISK: ${risky.length} stateful resource${risky.length === 1 ? '' : 's'} will be replaced or removed`));
    for (const r of risky) {
      lines.push(red(`!!   ${r.template} ${r.logicalId} (${r.type}): ${LABEL[r.action]}. ${consequence(r)}`));
    }
    lines.push(red('!! Review with the database owner; `npm run diff -- --fail-on-replacement` exits 2 on this.'), red(bar));
  } else {
    const replaced = diff.templates.flatMap((t) => t.resources).filter((r) => r.action === 'replace' || r.action === 'may-replace');
    lines.push('', `No stateful resource is replaced or removed${replaced.length > 0 ? ` (${replaced.length} stateless replacement${replaced.length === 1 ? '' : 's'}, marked [!] or [?] above)` : ''}.`);
  }
  return `${lines.join('\n')}\n`;
}
