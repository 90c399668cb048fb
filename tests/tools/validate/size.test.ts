import { validateSize, NESTED_TEMPLATE_MAX_BYTES, ROOT_TEMPLATE_MAX_BYTES } from '../../../tools/validate/validateSize';
import { JsonObject, renderTemplate } from '../../../cfn/lib/template';
import { templateWith, brief } from './support';

/** A template whose rendered JSON is exactly `bytes` long (padding in template Metadata). */
function ofSize(bytes: number): JsonObject {
  const t = templateWith({ Topic: { Type: 'AWS::SNS::Topic' } }, { Metadata: { Padding: '' } });
  const base = Buffer.byteLength(renderTemplate(t), 'utf8');
  (t.Metadata as JsonObject).Padding = 'x'.repeat(bytes - base);
  expect(Buffer.byteLength(renderTemplate(t), 'utf8')).toBe(bytes);
  return t;
}

const check = (name: string, bytes: number): string[] => brief(validateSize(new Map([[name, ofSize(bytes)]]), 'TapStack'));

describe('template size', () => {
  test.each([
    ['the root', 'TapStack', ROOT_TEMPLATE_MAX_BYTES - 1],
    ['a nested template', 'NetworkStack', NESTED_TEMPLATE_MAX_BYTES - 1],
    ['a nested template larger than the root limit', 'NetworkStack', ROOT_TEMPLATE_MAX_BYTES * 2],
  ])('GIVEN %s just under its limit WHEN checked THEN it passes', (_case, name, bytes) => {
    expect(check(name, bytes)).toEqual([]);
  });

  test('GIVEN an oversized root WHEN checked THEN it fails naming the StackSet TemplateBody limit', () => {
    expect(check('TapStack', ROOT_TEMPLATE_MAX_BYTES)).toEqual([
      'size TapStack : 51200 bytes; a root template (inline StackSet TemplateBody) must stay under 51200 bytes',
    ]);
  });

  test('GIVEN an oversized nested template WHEN checked THEN it fails naming the 1 MB limit', () => {
    expect(check('NetworkStack', NESTED_TEMPLATE_MAX_BYTES)).toEqual(['size NetworkStack : 1000000 bytes; a nested template must stay under 1000000 bytes']);
  });
});
