/**
 * A small, pure evaluator of CloudFormation conditions, for tests that render a
 * template "as deployed" with given parameter values in a given region: which
 * conditions hold, which resources and outputs exist, and what a value becomes
 * once every Fn::If has picked its branch.
 *
 * Supported inside conditions: Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition,
 * Ref (parameters and pseudo parameters) and Fn::FindInMap. Anything else is an
 * error naming what it met, so a test never passes on an expression it did not
 * understand.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/conditions-section-structure.html
 */
import { Json, JsonObject } from '../../cfn/lib/template';
import { isObject, section } from '../../tools/validate/json';

export interface Deployment {
  /** The region the stack deploys to (`AWS::Region`). */
  readonly region: string;
  /** Parameter values by name; a parameter not given takes its Default. */
  readonly parameters?: Readonly<Record<string, string | number>>;
  /** @default '123456789012' */
  readonly accountId?: string;
  /** @default 'aws' */
  readonly partition?: string;
}


/**
 * Every parameter's value: the given one, else the Default. Throws, naming the
 * parameter, when a value is missing, unknown to the template, or outside its
 * AllowedValues or AllowedPattern (CloudFormation would refuse the deployment).
 */
export function parameterValues(template: JsonObject, given: Readonly<Record<string, string | number>> = {}): Record<string, string> {
  const declared = section(template, 'Parameters');
  for (const name of Object.keys(given)) {
    if (!(name in declared)) throw new Error(`parameter ${name} is not declared by the template (declared: ${Object.keys(declared).join(', ')})`);
  }
  const values: Record<string, string> = {};
  for (const [name, defJson] of Object.entries(declared)) {
    const def = isObject(defJson) ? defJson : {};
    const raw = given[name] ?? (def.Default as string | number | undefined);
    if (raw === undefined) throw new Error(`parameter ${name} has no Default; give it a value`);
    const value = String(raw);
    if (Array.isArray(def.AllowedValues) && !def.AllowedValues.map(String).includes(value)) {
      throw new Error(`parameter ${name}: ${JSON.stringify(value)} is not one of its AllowedValues ${JSON.stringify(def.AllowedValues)}`);
    }
    if (typeof def.AllowedPattern === 'string' && !new RegExp(`^(?:${def.AllowedPattern})$`).test(value)) {
      throw new Error(`parameter ${name}: ${JSON.stringify(value)} does not match its AllowedPattern ${def.AllowedPattern}`);
    }
    values[name] = value;
  }
  return values;
}

/** The truth value of every condition of `template` for one deployment. */
export function evaluateConditions(template: JsonObject, deployment: Deployment): Record<string, boolean> {
  const conditions = section(template, 'Conditions');
  const mappings = section(template, 'Mappings');
  const params = parameterValues(template, deployment.parameters);
  const pseudo: Record<string, string> = {
    'AWS::Region': deployment.region,
    'AWS::AccountId': deployment.accountId ?? '123456789012',
    'AWS::Partition': deployment.partition ?? 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const results = new Map<string, boolean>();
  const evaluating: string[] = [];

  const value = (expr: Json, where: string): string => {
    if (typeof expr === 'string' || typeof expr === 'number' || typeof expr === 'boolean') return String(expr);
    if (!isObject(expr)) throw new Error(`${where}: cannot take the value of ${JSON.stringify(expr)}`);
    const [fn, arg] = Object.entries(expr)[0] ?? [];
    if (fn === 'Ref' && typeof arg === 'string') {
      if (arg in params) return params[arg];
      if (arg in pseudo) return pseudo[arg];
      throw new Error(`${where}: Ref ${arg} is neither a parameter nor a supported pseudo parameter (conditions cannot refer to resources)`);
    }
    if (fn === 'Fn::FindInMap' && Array.isArray(arg) && arg.length === 3) {
      const [map, top, second] = arg.map((a) => value(a, where));
      const entry = section(mappings, map)[top];
      const found = isObject(entry) ? entry[second] : undefined;
      if (found === undefined) throw new Error(`${where}: Fn::FindInMap [${map}, ${top}, ${second}] finds nothing`);
      return value(found, where);
    }
    throw new Error(`${where}: unsupported function ${fn ?? '(none)'} in a condition value`);
  };

  const truth = (expr: Json, where: string): boolean => {
    if (!isObject(expr)) throw new Error(`${where}: ${JSON.stringify(expr)} is not a condition function`);
    const [fn, arg] = Object.entries(expr)[0] ?? [];
    const list = (n?: number): Json[] => {
      if (!Array.isArray(arg) || (n !== undefined && arg.length !== n)) throw new Error(`${where}: ${fn} needs a list${n === undefined ? '' : ` of ${n}`}`);
      return arg;
    };
    switch (fn) {
      case 'Fn::Equals': {
        const [a, b] = list(2);
        return value(a, where) === value(b, where);
      }
      case 'Fn::Not':
        return !truth(list(1)[0], where);
      case 'Fn::And':
        return list().every((c) => truth(c, where));
      case 'Fn::Or':
        return list().some((c) => truth(c, where));
      case 'Condition':
        if (typeof arg !== 'string') throw new Error(`${where}: Condition needs a name`);
        return condition(arg);
      default:
        throw new Error(`${where}: unsupported condition function ${fn ?? '(none)'}`);
    }
  };

  const condition = (name: string): boolean => {
    const known = results.get(name);
    if (known !== undefined) return known;
    if (!(name in conditions)) throw new Error(`condition ${name} is not declared by the template`);
    if (evaluating.includes(name)) throw new Error(`conditions form a cycle: ${[...evaluating, name].join(' -> ')}`);
    evaluating.push(name);
    const result = truth(conditions[name], `Conditions/${name}`);
    evaluating.pop();
    results.set(name, result);
    return result;
  };

  for (const name of Object.keys(conditions)) condition(name);
  return Object.fromEntries(results);
}

const NO_VALUE = '{"Ref":"AWS::NoValue"}';

/**
 * `value` with every Fn::If replaced by the branch its condition picks, and every
 * property or list element that becomes `{"Ref": "AWS::NoValue"}` removed.
 */
export function resolveIfs(value: Json, conditions: Readonly<Record<string, boolean>>): Json | undefined {
  if (Array.isArray(value)) return value.map((v) => resolveIfs(v, conditions)).filter((v): v is Json => v !== undefined);
  if (!isObject(value)) return value;
  const ifArgs = value['Fn::If'];
  if (Object.keys(value).length === 1 && Array.isArray(ifArgs)) {
    const [name, whenTrue, whenFalse] = ifArgs;
    if (typeof name !== 'string' || !(name in conditions)) throw new Error(`Fn::If names an unknown condition ${JSON.stringify(name)}`);
    return resolveIfs(conditions[name] ? whenTrue : whenFalse, conditions);
  }
  if (JSON.stringify(value) === NO_VALUE) return undefined;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    const resolved = resolveIfs(v, conditions);
    if (resolved !== undefined) out[k] = resolved;
  }
  return out;
}

/** What one deployment of a template contains: conditions, and the resources and outputs that exist, with Fn::If resolved. */
export interface Rendered {
  readonly conditions: Record<string, boolean>;
  readonly resources: Record<string, JsonObject>;
  readonly outputs: Record<string, JsonObject>;
}

export function render(template: JsonObject, deployment: Deployment): Rendered {
  const conditions = evaluateConditions(template, deployment);
  const exists = (entry: Json): entry is JsonObject => {
    if (!isObject(entry)) return false;
    const c = entry.Condition;
    if (c === undefined) return true;
    if (typeof c !== 'string' || !(c in conditions)) throw new Error(`unknown Condition ${JSON.stringify(c)}`);
    return conditions[c];
  };
  const keep = (name: string): Record<string, JsonObject> =>
    Object.fromEntries(
      Object.entries(section(template, name))
        .filter((e): e is [string, JsonObject] => exists(e[1]))
        .map(([id, entry]) => [id, resolveIfs(entry, conditions) as JsonObject]),
    );
  return { conditions, resources: keep('Resources'), outputs: keep('Outputs') };
}
