/**
 * The test-support condition evaluator (tests/support/conditions.ts), over a
 * small hand-written template.
 */
import { evaluateConditions, parameterValues, render, resolveIfs } from './conditions';
import { JsonObject } from '../../cfn/lib/template';

const fixture: JsonObject = {
  Parameters: {
    PrimaryRegion: { Type: 'String', AllowedPattern: '^[a-z]{2}-[a-z]+-\\d$' },
    EnvironmentType: { Type: 'String', AllowedValues: ['dev', 'prod'], Default: 'dev' },
    Count: { Type: 'Number', AllowedValues: [0, 1, 2], Default: 1 },
    Size: { Type: 'String', AllowedValues: ['small', 'large'], Default: 'small' },
  },
  Mappings: { Sizes: { small: { Fast: 'false' }, large: { Fast: 'true' } } },
  Conditions: {
    IsPrimary: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, { Ref: 'PrimaryRegion' }] },
    IsProd: { 'Fn::Equals': [{ Ref: 'EnvironmentType' }, 'prod'] },
    HasOne: { 'Fn::Or': [{ Condition: 'IsProd' }, { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'Count' }, '0'] }] }] },
    PrimaryProd: { 'Fn::And': [{ Condition: 'IsPrimary' }, { Condition: 'IsProd' }] },
    Fast: { 'Fn::Equals': [{ 'Fn::FindInMap': ['Sizes', { Ref: 'Size' }, 'Fast'] }, 'true'] },
  },
  Resources: {
    Always: { Type: 'AWS::SNS::Topic', Properties: { DisplayName: { 'Fn::If': ['IsProd', 'prod', { Ref: 'AWS::NoValue' }] } } },
    OnlyPrimary: { Type: 'AWS::SNS::Topic', Condition: 'IsPrimary' },
  },
  Outputs: { Name: { Value: { 'Fn::If': ['IsPrimary', { Ref: 'OnlyPrimary' }, 'derived'] } } },
};

describe('condition evaluator', () => {
  test.each([
    ['us-east-1', {}, { IsPrimary: true, IsProd: false, HasOne: true, PrimaryProd: false, Fast: false }],
    ['eu-west-1', { EnvironmentType: 'prod', Count: 0 }, { IsPrimary: false, IsProd: true, HasOne: true, PrimaryProd: false, Fast: false }],
    ['us-east-1', { EnvironmentType: 'prod', Size: 'large' }, { IsPrimary: true, IsProd: true, HasOne: true, PrimaryProd: true, Fast: true }],
    ['us-east-1', { Count: 0 }, { IsPrimary: true, IsProd: false, HasOne: false, PrimaryProd: false, Fast: false }],
  ])('GIVEN region %s and parameters %j WHEN evaluated THEN the conditions are %j', (region, given, expected) => {
    expect(evaluateConditions(fixture, { region, parameters: { PrimaryRegion: 'us-east-1', ...given } })).toEqual(expected);
  });

  test.each([
    [{}, 'PrimaryRegion has no Default'],
    [{ PrimaryRegion: 'us-east-1', Nope: 'x' }, 'parameter Nope is not declared'],
    [{ PrimaryRegion: 'us-east-1', EnvironmentType: 'qa' }, 'parameter EnvironmentType: "qa" is not one of its AllowedValues'],
    [{ PrimaryRegion: 'useast1' }, 'parameter PrimaryRegion: "useast1" does not match its AllowedPattern'],
  ])('GIVEN parameters %j WHEN resolved THEN the error says %s', (given, message) => {
    expect(() => parameterValues(fixture, given)).toThrow(message);
  });

  test.each([
    [{ C: { 'Fn::Equals': [{ Ref: 'SomeResource' }, 'x'] } }, 'Ref SomeResource is neither a parameter'],
    [{ C: { 'Fn::Contains': [['a'], 'a'] } }, 'unsupported condition function Fn::Contains'],
    [{ C: { Condition: 'D' }, D: { Condition: 'C' } }, 'conditions form a cycle'],
    [{ C: { Condition: 'Missing' } }, 'condition Missing is not declared'],
  ])('GIVEN conditions %j WHEN evaluated THEN the error names the problem', (conditions, message) => {
    expect(() => evaluateConditions({ Conditions: conditions }, { region: 'us-east-1' })).toThrow(message);
  });

  test('GIVEN Fn::If and AWS::NoValue WHEN resolved THEN the chosen branch remains and NoValue removes the property', () => {
    const value = { A: { 'Fn::If': ['X', 1, 2] }, B: { 'Fn::If': ['X', { Ref: 'AWS::NoValue' }, 'b'] }, L: [{ 'Fn::If': ['X', { Ref: 'AWS::NoValue' }, 'l'] }, 'k'] };
    expect(resolveIfs(value, { X: true })).toEqual({ A: 1, L: ['k'] });
    expect(resolveIfs(value, { X: false })).toEqual({ A: 2, B: 'b', L: ['l', 'k'] });
    expect(() => resolveIfs({ 'Fn::If': ['Y', 1, 2] }, { X: true })).toThrow('unknown condition "Y"');
  });

  test.each([
    ['us-east-1', ['Always', 'OnlyPrimary'], { Ref: 'OnlyPrimary' }],
    ['eu-west-1', ['Always'], 'derived'],
  ])('GIVEN region %s WHEN rendered THEN the resources are %j and the output is %j', (region, ids, output) => {
    const rendered = render(fixture, { region, parameters: { PrimaryRegion: 'us-east-1' } });
    expect(Object.keys(rendered.resources)).toEqual(ids);
    expect(rendered.outputs.Name.Value).toEqual(output);
    expect(rendered.resources.Always).toEqual({ Type: 'AWS::SNS::Topic', Properties: {} });
  });
});
