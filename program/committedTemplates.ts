/**
 * The generated templates the program deploys, read from cfn/templates at run
 * time (never a copy), and pure facts derived from them: content hashes, the
 * root's parameters, the capabilities and the resource types they need.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ROOT_TEMPLATE_NAME, TEMPLATES_DIR, templateObjectKey as objectKey } from '../cfn/contract/layout';
import type { Json, JsonObject } from '../cfn/lib/template';

// From cfn/contract/layout, not cfn/stacks: the generators stay out of every `pulumi up`.
export { TEMPLATES_DIR };
export const ROOT_TEMPLATE = ROOT_TEMPLATE_NAME;

export interface TemplateFile {
  /** File name without `.json`, such as NetworkStack. */
  readonly name: string;
  /** The exact committed bytes (what is uploaded, hashed and deployed). */
  readonly body: string;
}

export interface TemplateSet {
  readonly root: TemplateFile;
  /** Every other template in the directory, sorted by name. */
  readonly nested: readonly TemplateFile[];
}

/** Reads every `*.json` template of `dir`; the root must be among them. */
export function readTemplates(dir: string = TEMPLATES_DIR): TemplateSet {
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: f.slice(0, -'.json'.length), body: fs.readFileSync(path.join(dir, f), 'utf8') }));
  const root = files.find((f) => f.name === ROOT_TEMPLATE);
  if (root === undefined) throw new Error(`${path.join(dir, `${ROOT_TEMPLATE}.json`)} is missing: run \`npm run synth\` first`);
  return { root, nested: files.filter((f) => f !== root) };
}

export { sha256, templateUrl } from '../cfn/contract/layout';

/** S3 key of a committed template: the key the root template's TemplateURL names (cfn/contract/layout.ts). */
export const templateObjectKey = (file: TemplateFile): string => objectKey(file.name, file.body);

export const parseTemplate = (file: TemplateFile): JsonObject => JSON.parse(file.body) as JsonObject;

type ResourceJson = { Type?: string; Properties?: Record<string, Json> };
const resourcesOf = (template: JsonObject): ResourceJson[] => Object.values((template.Resources ?? {}) as Record<string, ResourceJson>);

/** Every resource type used by the templates, sorted and unique. */
export const resourceTypes = (templates: readonly JsonObject[]): string[] =>
  [...new Set(templates.flatMap((t) => resourcesOf(t).map((r) => r.Type ?? '')).filter((t) => t !== ''))].sort();

/** Every resource type of a template set, root included. */
export const templateResourceTypes = (set: TemplateSet): string[] => resourceTypes([set.root, ...set.nested].map(parseTemplate));

/** Properties that give an IAM resource a custom name, which needs CAPABILITY_NAMED_IAM. */
const IAM_NAME_PROPERTIES = ['RoleName', 'UserName', 'GroupName', 'ManagedPolicyName', 'InstanceProfileName'];

/**
 * Capabilities a stack operation must acknowledge for these templates
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html#API_CreateStack_RequestParameters):
 * CAPABILITY_IAM for any IAM resource, CAPABILITY_NAMED_IAM when one has a custom
 * name, CAPABILITY_AUTO_EXPAND for macros (a Transform). Nested stacks alone need none.
 */
export function requiredCapabilities(templates: readonly JsonObject[]): string[] {
  const iam = templates.flatMap((t) => resourcesOf(t).filter((r) => (r.Type ?? '').startsWith('AWS::IAM::')));
  const caps = new Set<string>();
  if (iam.length > 0) caps.add('CAPABILITY_IAM');
  if (iam.some((r) => IAM_NAME_PROPERTIES.some((p) => r.Properties?.[p] !== undefined))) caps.add('CAPABILITY_NAMED_IAM');
  if (templates.some((t) => t.Transform !== undefined)) caps.add('CAPABILITY_AUTO_EXPAND');
  return [...caps].sort();
}

/** A root template parameter and the constraints CloudFormation will enforce on its value. */
export interface RootParameter {
  readonly name: string;
  readonly type: string;
  /** The Default as CloudFormation reads it (a string), if any. */
  readonly default?: string;
  readonly allowedPattern?: string;
  readonly allowedValues?: readonly string[];
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minValue?: number;
  readonly maxValue?: number;
  /** What the template tells an operator the value must be. */
  readonly constraintDescription?: string;
}

type ParameterJson = {
  Type: string;
  Default?: string | number;
  AllowedPattern?: string;
  AllowedValues?: Array<string | number>;
  MinLength?: number;
  MaxLength?: number;
  MinValue?: number;
  MaxValue?: number;
  ConstraintDescription?: string;
};

/** The template's Parameters, sorted by name. */
export function templateParameters(template: JsonObject): RootParameter[] {
  return Object.entries((template.Parameters ?? {}) as Record<string, ParameterJson>)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, p]) => ({
      name,
      type: p.Type,
      ...(p.Default === undefined ? {} : { default: String(p.Default) }),
      ...(p.AllowedPattern === undefined ? {} : { allowedPattern: p.AllowedPattern }),
      ...(p.AllowedValues === undefined ? {} : { allowedValues: p.AllowedValues.map(String) }),
      ...(p.MinLength === undefined ? {} : { minLength: p.MinLength }),
      ...(p.MaxLength === undefined ? {} : { maxLength: p.MaxLength }),
      ...(p.MinValue === undefined ? {} : { minValue: p.MinValue }),
      ...(p.MaxValue === undefined ? {} : { maxValue: p.MaxValue }),
      ...(p.ConstraintDescription === undefined ? {} : { constraintDescription: p.ConstraintDescription }),
    }));
}

/** The committed root template's parameters (TapStack.json, read at run time). */
export const rootParameters = (dir: string = TEMPLATES_DIR): RootParameter[] => templateParameters(parseTemplate(readTemplates(dir).root));
