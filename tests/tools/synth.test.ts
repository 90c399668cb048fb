import * as fs from 'fs';
import * as path from 'path';
import { synthesize, renderAll, TEMPLATES_DIR } from '../../cfn/build';

describe('synth output', () => {
  test('GIVEN two synths WHEN rendered THEN the bytes are identical', () => {
    const a = renderAll(synthesize());
    const b = renderAll(synthesize());
    expect([...a.keys()]).toEqual([...b.keys()]);
    for (const [name, body] of a) expect(b.get(name)).toBe(body);
  });

  test('GIVEN the committed templates WHEN compared with a fresh synth THEN they are identical (run `npm run synth`)', () => {
    const fresh = renderAll(synthesize());
    const committed = fs.readdirSync(TEMPLATES_DIR).filter((f) => f.endsWith('.json')).map((f) => path.basename(f, '.json')).sort();
    expect(committed).toEqual([...fresh.keys()].sort());
    for (const [name, body] of fresh) {
      expect({ name, body: fs.readFileSync(path.join(TEMPLATES_DIR, `${name}.json`), 'utf8') }).toEqual({ name, body });
    }
  });

  test.each([...renderAll(synthesize())])('GIVEN %s WHEN rendered THEN it is 2-space JSON with a trailing newline', (_name, body) => {
    expect(body.endsWith('}\n')).toBe(true);
    expect(JSON.stringify(JSON.parse(body), null, 2) + '\n').toBe(body);
  });
});
