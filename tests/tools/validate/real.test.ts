/**
 * validateAll, the gate synth runs: every check wired in, and the generated
 * templates passing all of them. A failure in the last test names the check,
 * template and location; fix the generator, not this test.
 */
import { validateAll } from '../../../tools/validate';
import { formatFinding } from '../../../tools/validate/types';
import { templates } from '../../support/assertions';
import { templateWith } from './support';
import { TAG_KEYS } from '../../../cfn/lib/tags';

describe('validateAll', () => {
  test('GIVEN templates breaking one rule per pure gate WHEN validated without lint and guard THEN every gate reports', () => {
    const nested = templateWith(
      { Topic: { Type: 'AWS::SNS::Topic', DeletionPolicy: 'Retain', Metadata: { 'cfn-lint': { config: { ignore_checks: ['W1'] } } } } },
      { Parameters: { Size: { Type: 'Number', Description: 'd', ConstraintDescription: 'c', AllowedValues: [1] } } },
    );
    const tags = TAG_KEYS.map((Key) => ({ Key, Value: 'v' }));
    const stack = { Type: 'AWS::CloudFormation::Stack', DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete', Properties: { TemplateURL: 'https://x', Parameters: {}, Tags: tags } };
    const root = templateWith({ FixtureStack: stack }, { Metadata: { Pad: 'x'.repeat(51_200) } });
    const checks = validateAll(new Map([['FixtureStack', nested], ['RootStack', root]]), { lint: false, guard: false, rootTemplate: 'RootStack' }).map((f) => f.check);
    expect(checks).toEqual(['cfn-lint ignores', 'cross-stack', 'invariant:retain', 'invariant:tags', 'size']);
  });

  test('GIVEN synthesize() WHEN every validation runs THEN there are no findings', () => {
    expect(validateAll(templates()).map(formatFinding)).toEqual([]);
  });
});
