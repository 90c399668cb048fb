/** Small readers over template JSON shared by the validators. */
import { Json, JsonObject } from '../../cfn/lib/template';

export const isObject = (v: Json | undefined): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

export const section = (template: JsonObject, name: string): JsonObject => {
  const s = template[name];
  return isObject(s) ? s : {};
};

/** `Resources` as logical ID -> resource object. */
export const resourcesOf = (template: JsonObject): Array<[string, JsonObject]> =>
  Object.entries(section(template, 'Resources')).filter((e): e is [string, JsonObject] => isObject(e[1]));

/** Calls `visit` for every string value and object key, with a JSON path like `Resources/Bucket/Properties/Tags/0/Key`. */
export function visitStrings(value: Json | undefined, visit: (s: string, path: string) => void, path = ''): void {
  if (typeof value === 'string') visit(value, path);
  else if (typeof value === 'number') visit(String(value), path);
  else if (Array.isArray(value)) value.forEach((v, i) => visitStrings(v, visit, join(path, String(i))));
  else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      const p = join(path, k);
      visit(k, p);
      visitStrings(v, visit, p);
    }
  }
}

/** Every `{ fn: argument }` intrinsic under `value`, with its path. */
export function findIntrinsics(value: Json | undefined, fn: string, path = ''): Array<{ path: string; argument: Json }> {
  const out: Array<{ path: string; argument: Json }> = [];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...findIntrinsics(v, fn, join(path, String(i)))));
  else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (k === fn) out.push({ path, argument: v });
      out.push(...findIntrinsics(v, fn, join(path, k)));
    }
  }
  return out;
}

export const join = (path: string, key: string): string => (path === '' ? key : `${path}/${key}`);
