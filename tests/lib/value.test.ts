import { objectAt } from '../../cfn/lib/value';
import { Json } from '../../cfn/lib/template';

describe('objectAt: reading a JSON object out of a template', () => {
  test.each<[string, Json | undefined, Json]>([
    ['an absent section', undefined, {}],
    ['an empty object', {}, {}],
    ['an object', { A: 1 }, { A: 1 }],
  ])('GIVEN %s WHEN read THEN it is that object', (_case, value, expected) => {
    expect(objectAt(value, 'Parameters')).toEqual(expected);
  });

  test.each<[string, Json]>([
    ['a list', [1]],
    ['a string', 'x'],
    ['null', null],
    ['a number', 3],
  ])('GIVEN %s WHEN read as an object THEN the error names what was read', (_case, value) => {
    expect(() => objectAt(value, 'DatabaseStack Outputs')).toThrow(/^DatabaseStack Outputs is .*, not an object$/);
  });
});
