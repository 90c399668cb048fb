/**
 * `npm run generate:types`: writes cfn/lib/cfnTypes.generated.ts, the property
 * types of the resource types listed in cfn/lib/cfnTypes.list.ts, from AWS's
 * resource specification as @aws-cdk/aws-service-spec holds it (the database
 * the AWS CDK generates its L1 classes from). Hand-maintained typings lag behind
 * CloudFormation; these move with the spec version pinned in package.json.
 *
 *   npm run generate:types
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';
import type { Property, PropertyType, Resource, TypeDefinition } from '@aws-cdk/service-spec-types';
import { GENERATED_RESOURCE_TYPES } from '../../cfn/lib/cfnTypes.list';

export const GENERATED_FILE = path.join(__dirname, '..', '..', 'cfn', 'lib', 'cfnTypes.generated.ts');

const SPEC_PACKAGE = '@aws-cdk/aws-service-spec';

type SpecDatabase = ReturnType<typeof loadAwsServiceSpecSync>;

let specDb: SpecDatabase | undefined;
// Loading takes about a second; the CLI and the tests render more than once per process.
const database = (): SpecDatabase => (specDb ??= loadAwsServiceSpecSync());

/** The installed spec package's version, for the header: the output changes with it and only with it. */
export function specVersion(): string {
  const file = require.resolve(`${SPEC_PACKAGE}/package.json`);
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

/** Names the generated file declares or imports besides the generated interfaces. */
const RESERVED_NAMES = new Set(['Intrinsic', 'JsonLike', 'Value', 'ResourcePropsByType', 'ResourceType', 'TAG_PROPERTY', 'TAG_PROPERTIES', 'TagProperty']);

interface Naming {
  props(resource: Resource): string;
  typeDef(typeDef: TypeDefinition): string;
}

let naming: Naming | undefined;

/**
 * `<Service><Resource>Props` for a resource (AWS::EC2::VPC: EC2VPCProps) and
 * `<Service><Resource><TypeDef>` for its type definitions (S3BucketReplicationConfiguration).
 * Plain concatenation can collide (AWS::A::BC and AWS::AB::C; a type definition
 * `EndpointDns` of AWS::EC2::VPC and `Dns` of AWS::EC2::VPCEndpoint), so every
 * claimant of a name claimed twice takes the underscored form instead:
 * `<Service>_<Resource>Props` and `<Service>_<Resource>_<TypeDef>`, which cannot
 * collide while the spec's names are alphanumeric (render() still fails on a
 * duplicate declaration). Collisions are counted over the whole spec, not just
 * the listed types, so that adding a type to the list never renames an
 * interface the builders already use.
 */
function specNaming(): Naming {
  if (naming !== undefined) return naming;
  const db = database();
  const candidates = new Map<string, { plain: string; underscored: string }>();
  const claims = new Map<string, number>();
  const claim = (id: string, plain: string, underscored: string): void => {
    candidates.set(id, { plain, underscored });
    claims.set(plain, (claims.get(plain) ?? 0) + 1);
  };
  for (const r of db.all('resource')) {
    const [svc, res] = serviceAndResource(r.cloudFormationType);
    claim(r.$id, `${svc}${res}Props`, `${svc}_${res}Props`);
    for (const { entity: t } of db.follow('usesType', r)) claim(t.$id, `${svc}${res}${t.name}`, `${svc}_${res}_${t.name}`);
  }
  const nameOf = (id: string, what: string): string => {
    const c = candidates.get(id);
    if (c === undefined) throw new Error(`${what} belongs to no resource type of the spec`);
    return (claims.get(c.plain) ?? 0) > 1 || RESERVED_NAMES.has(c.plain) ? c.underscored : c.plain;
  };
  naming = {
    props: (r) => nameOf(r.$id, r.cloudFormationType),
    typeDef: (t) => nameOf(t.$id, `type definition ${t.name}`),
  };
  return naming;
}

/** `AWS::EC2::VPC` -> `['EC2', 'VPC']`; the vendor prefix (AWS, Alexa) carries no information in a name. */
function serviceAndResource(cloudFormationType: string): [string, string] {
  const parts = cloudFormationType.split('::');
  return [parts[1] ?? '', parts[2] ?? ''];
}

/** A one-line summary: the first sentence of the first paragraph, whitespace collapsed, safe inside a comment. */
export function firstSentence(documentation: string | undefined): string | undefined {
  const paragraph = (documentation ?? '').trim().split(/\n\s*\n/)[0].replace(/\s+/g, ' ').trim();
  if (paragraph === '') return undefined;
  let end = paragraph.length;
  for (let i = 0; i < paragraph.length; i++) {
    if (paragraph[i] === '`') {
      // A code span (`a. b`) runs to the next backtick run of the same length; an unmatched run is literal (CommonMark).
      const run = /^`+/.exec(paragraph.slice(i))?.[0] ?? '`';
      const close = new RegExp(`(?<!\`)${run}(?!\`)`, 'g');
      close.lastIndex = i + run.length;
      const m = close.exec(paragraph);
      i = m === null ? i + run.length - 1 : m.index + run.length - 1;
    } else if (paragraph[i] === '.' && (i + 1 === paragraph.length || paragraph[i + 1] === ' ') && !ABBREVIATION.test(paragraph.slice(0, i + 1))) {
      end = i + 1;
      break;
    }
  }
  return paragraph.slice(0, end).replace(/\*\//g, '*\\/');
}

const ABBREVIATION = /(?:\be\.g|\bi\.e|\bvs|\bU\.S)\.$/i;

const TAG_TYPE = 'Value<{ readonly Key: Value<string>; readonly Value: Value<string> }>';

/** What one rendering reached: the type definitions to emit and the names it uses from ./value. */
interface Rendering {
  readonly typeDefs: Map<string, TypeDefinition>;
  readonly valueImports: Set<'Intrinsic' | 'JsonLike' | 'Value'>;
  /** Properties typed JsonLike because the spec deprecates them or their type is unknown. */
  readonly fallbacks: string[];
}

function renderType(t: PropertyType, ctx: Rendering, where: string): string {
  const value = (inner: string): string => {
    ctx.valueImports.add('Value');
    return `Value<${inner}>`;
  };
  const json = (): string => {
    ctx.valueImports.add('JsonLike');
    return 'JsonLike';
  };
  switch (t.type) {
    case 'string':
    case 'date-time':
      return value('string');
    case 'number':
    case 'integer':
      return value('number');
    case 'boolean':
      return value('boolean');
    case 'json':
      return json();
    case 'null':
      return 'null';
    case 'tag':
      ctx.valueImports.add('Value');
      return TAG_TYPE;
    case 'array':
      return value(`ReadonlyArray<${renderType(t.element, ctx, where)}>`);
    case 'map':
      return value(`{ readonly [key: string]: ${renderType(t.element, ctx, where)} }`);
    case 'ref': {
      const def = tryTypeDef(t.reference.$ref);
      if (def === undefined) {
        ctx.fallbacks.push(`${where}: reference to a missing type definition`);
        return json();
      }
      ctx.typeDefs.set(def.$id, def);
      return value(specNaming().typeDef(def));
    }
    case 'union':
      // Sorted: the spec lists the same alternatives in either order (string|json, json|string).
      return [...new Set(t.types.map((u) => renderType(u, ctx, where)))].sort(compareStrings).join(' | ');
    default:
      ctx.fallbacks.push(`${where}: unknown type ${JSON.stringify(t)}`);
      return json();
  }
}

function tryTypeDef(id: string): TypeDefinition | undefined {
  try {
    return database().get('typeDefinition', id);
  } catch {
    return undefined;
  }
}

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const quote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const memberKey = (name: string): string => (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : quote(name));
const docLine = (indent: string, text: string | undefined): string[] => (text === undefined ? [] : [`${indent}/** ${text} */`]);

function renderMembers(properties: Readonly<Record<string, Property>>, ctx: Rendering, where: string): string[] {
  return Object.keys(properties)
    .sort(compareStrings)
    .flatMap((name) => {
      const p = properties[name];
      const summary = firstSentence(p.documentation);
      // The spec's Deprecation is a string enum; NONE means not deprecated.
      const deprecated = p.deprecated !== undefined && String(p.deprecated) !== 'NONE';
      let type: string;
      if (deprecated) {
        ctx.fallbacks.push(`${where}.${name}: deprecated (${String(p.deprecated)})`);
        ctx.valueImports.add('JsonLike');
        type = 'JsonLike';
      } else {
        type = renderType(p.type, ctx, `${where}.${name}`);
      }
      const doc = deprecated ? `@deprecated${summary === undefined ? '' : ` ${summary}`}` : summary;
      return [...docLine('  ', doc), `  readonly ${memberKey(name)}${p.required === true ? '' : '?'}: ${type};`];
    });
}

/** An interface, or for a shape the spec leaves without properties, the closest honest type. */
function renderShape(name: string, doc: string | undefined, members: readonly string[], emptyAs: string): string {
  const head = [...docLine('', doc)];
  if (members.length === 0) return [...head, `export type ${name} = ${emptyAs};`].join('\n');
  return [...head, `export interface ${name} {`, ...members, '}'].join('\n');
}

function lookupResource(cloudFormationType: string): Resource {
  const found = database().lookup('resource', 'cloudFormationType', 'equals', cloudFormationType);
  if (found.length !== 1) throw new Error(`${cloudFormationType} is not a resource type of ${SPEC_PACKAGE} ${specVersion()}`);
  return found[0];
}

interface RenderResult {
  readonly text: string;
  readonly resourceCount: number;
  readonly declarationCount: number;
  readonly fallbacks: readonly string[];
}

function render(types: readonly string[]): RenderResult {
  const custom = types.filter((t) => t.startsWith('Custom::'));
  if (custom.length > 0) throw new Error(`custom resource types have no spec: ${custom.join(', ')}`);
  const sorted = [...new Set(types)].sort(compareStrings);
  const names = specNaming();
  const ctx: Rendering = { typeDefs: new Map(), valueImports: new Set(), fallbacks: [] };

  // One section per resource type: its props, then the type definitions it owns, by name.
  const sections = new Map<string, { props?: string; typeDefs: Map<string, string> }>();
  const section = (type: string) => {
    let s = sections.get(type);
    if (s === undefined) sections.set(type, (s = { typeDefs: new Map() }));
    return s;
  };
  const tagProperties: string[] = [];
  for (const type of sorted) {
    const r = lookupResource(type);
    section(type).props = renderShape(names.props(r), firstSentence(r.documentation), renderMembers(r.properties, ctx, type), 'Record<string, never>');
    const tags = r.tagInformation;
    if (tags !== undefined) {
      if (r.properties[tags.tagPropertyName] === undefined) throw new Error(`${type}: tag property ${tags.tagPropertyName} is not among its properties`);
      tagProperties.push(`  ${quote(type)}: { property: ${quote(tags.tagPropertyName)}, variant: ${quote(tags.variant)} },`);
    }
  }
  // Rendering a type definition can reach further ones; the set grows until all are rendered.
  const done = new Set<string>();
  for (let pending = [...ctx.typeDefs.values()]; pending.length > 0; pending = [...ctx.typeDefs.values()].filter((t) => !done.has(t.$id))) {
    for (const def of pending) {
      done.add(def.$id);
      const owner = database().incoming('usesType', def)[0]?.entity;
      const ownerType = owner?.cloudFormationType ?? '';
      const where = `${ownerType}.${def.name}`;
      // A type definition without properties is an object the spec does not describe.
      const text = renderShape(names.typeDef(def), firstSentence(def.documentation), renderMembers(def.properties, ctx, where), '{ readonly [key: string]: JsonLike }');
      if (def.properties === undefined || Object.keys(def.properties).length === 0) ctx.valueImports.add('JsonLike');
      section(ownerType).typeDefs.set(def.name, text);
    }
  }

  const declared = new Map<string, string>();
  const body: string[] = [];
  for (const type of [...sections.keys()].sort(compareStrings)) {
    const s = sections.get(type);
    if (s === undefined) continue;
    const blocks = [...(s.props === undefined ? [] : [s.props]), ...[...s.typeDefs.keys()].sort(compareStrings).map((n) => s.typeDefs.get(n) ?? '')];
    for (const b of blocks) {
      const name = /^export (?:interface|type) (\S+)/m.exec(b)?.[1] ?? '';
      const previous = declared.get(name);
      if (previous !== undefined) throw new Error(`${name} is declared for both ${previous} and ${type}`);
      declared.set(name, type);
      body.push(b);
    }
  }

  const propsOf = sorted.map((t) => `  readonly ${quote(t)}: ${names.props(lookupResource(t))};`);
  const imports = (['Intrinsic', 'JsonLike', 'Value'] as const).filter((n) => ctx.valueImports.has(n));
  const text = [
    [
      '/**',
      ` * Generated by tools/cli/generateTypes.ts from ${SPEC_PACKAGE} ${specVersion()}: do not edit.`,
      ' * Regenerate with `npm run generate:types` after changing cfn/lib/cfnTypes.list.ts or the spec version.',
      ' *',
      ' * The properties of each resource type as CloudFormation accepts them, in the spec\'s latest version.',
      ' * Values are Value<...> so that any property, struct or list element may be an intrinsic (Ref, Fn::If, ...);',
      ' * free-form JSON, deprecated properties and types the generator cannot map are JsonLike.',
      ' */',
    ].join('\n'),
    `import type { ${imports.join(', ')} } from './value';`,
    ...body,
    ['/** The props interface of each generated resource type. */', 'export interface ResourcePropsByType {', ...propsOf, '}'].join('\n'),
    'export type ResourceType = keyof ResourcePropsByType;',
    [
      '/** The property that holds a taggable type\'s tags, and its shape: `[{Key, Value}]` (standard, asg) or `{key: value}` (map). */',
      'const TAG_PROPERTIES = {',
      ...tagProperties,
      '} as const;',
      "export const TAG_PROPERTY: { readonly [T in ResourceType]?: { property: string; variant: 'standard' | 'asg' | 'map' } } = TAG_PROPERTIES;",
      '/** Every property name that holds tags on some taggable type. */',
      'export type TagProperty = (typeof TAG_PROPERTIES)[keyof typeof TAG_PROPERTIES][\'property\'];',
    ].join('\n'),
  ].join('\n\n');
  return { text: `${text}\n`, resourceCount: sorted.length, declarationCount: declared.size, fallbacks: ctx.fallbacks };
}

/**
 * The generated file for these resource types: byte-stable for a given spec
 * version (sorted throughout, no timestamps), whatever the order of `types`.
 */
export function renderCfnTypes(types: readonly string[]): string {
  return render(types).text;
}

function main(): number {
  const result = render(GENERATED_RESOURCE_TYPES);
  const file = path.relative(process.cwd(), GENERATED_FILE);
  for (const f of result.fallbacks) process.stdout.write(`typed as JsonLike: ${f}\n`);
  if (fs.existsSync(GENERATED_FILE) && fs.readFileSync(GENERATED_FILE, 'utf8') === result.text) {
    process.stdout.write(`${file} is up to date (${SPEC_PACKAGE} ${specVersion()})\n`);
    return 0;
  }
  fs.writeFileSync(GENERATED_FILE, result.text);
  process.stdout.write(
    `wrote ${file}: ${result.resourceCount} resource types, ${result.declarationCount} declarations, ${Buffer.byteLength(result.text)} bytes (${SPEC_PACKAGE} ${specVersion()})\n`,
  );
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main();
  } catch (e) {
    process.stderr.write(`generate:types failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}
