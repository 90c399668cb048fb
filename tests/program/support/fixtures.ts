/**
 * A small template set in a temporary directory, shaped like cfn/templates: a
 * root that declares what the full root does (both regions' images, the gate's
 * BakeMinutes, a nested stack at its content-addressed key), so components can
 * be tested independently of the committed nested stacks.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

type Json = Record<string, unknown>;

export const fixtureRoot = (extraParameters: Json = {}): Json => ({
  AWSTemplateFormatVersion: '2010-09-09',
  Parameters: {
    EnvironmentSuffix: { Type: 'String', AllowedPattern: '^[a-z][a-z0-9-]*[a-z0-9]$', MinLength: 2, MaxLength: 16, Description: 'd', ConstraintDescription: 'c' },
    PrimaryRegion: { Type: 'String', AllowedPattern: '^[a-z]{2}-[a-z]+-\\d$', Description: 'd', ConstraintDescription: 'c' },
    SecondaryRegion: { Type: 'String', AllowedPattern: '^[a-z]{2}-[a-z]+-\\d$', Description: 'd', ConstraintDescription: 'c' },
    PrimaryImageUri: { Type: 'String', AllowedPattern: '^\\d{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com/[a-z0-9-]+@sha256:[a-f0-9]{64}$', Description: 'd', ConstraintDescription: 'c' },
    SecondaryImageUri: { Type: 'String', AllowedPattern: '^\\d{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com/[a-z0-9-]+@sha256:[a-f0-9]{64}$', Description: 'd', ConstraintDescription: 'c' },
    BakeMinutes: { Type: 'String', Default: 'auto', AllowedPattern: '^(auto|[0-9]|10)$', Description: 'd', ConstraintDescription: 'c' },
    AlarmEmail: { Type: 'String', Default: '', AllowedPattern: '^$|^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$', Description: 'd', ConstraintDescription: 'c' },
    ...extraParameters,
  },
  Resources: {
    AppStack: {
      Type: 'AWS::CloudFormation::Stack',
      Properties: { TemplateURL: { 'Fn::Sub': 'https://tap-templates-${EnvironmentSuffix}-${AWS::AccountId}-${AWS::Region}.s3.${AWS::Region}.${AWS::URLSuffix}/templates/AppStack-0123456789abcdef.json' } },
    },
  },
});

export const fixtureApp = (): Json => ({
  AWSTemplateFormatVersion: '2010-09-09',
  Resources: {
    FunctionRole: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } },
    Function: { Type: 'AWS::Lambda::Function', Properties: { PackageType: 'Image', Code: { ImageUri: { Ref: 'ImageUri' } } } },
  },
});

/** Writes TapStack.json and AppStack.json (2-space JSON, like synth) into a new temporary directory. */
export function writeFixtureTemplates(root: Json = fixtureRoot(), app: Json = fixtureApp()): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tap-templates-'));
  fs.writeFileSync(path.join(dir, 'TapStack.json'), `${JSON.stringify(root, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, 'AppStack.json'), `${JSON.stringify(app, null, 2)}\n`);
  return dir;
}
