// tap: the Pulumi program. It validates the configuration before declaring any
// resource, then wires components/: every region stack owns its image and its
// template artifacts; the primary also owns the StackSet and both instances.
// Deployment order and teardown: README.md, "Deployment".
import * as pulumi from '@pulumi/pulumi';
import { loadConfig } from './components/config';
import { LambdaImage } from './components/lambdaImage';
import { StackSetRoles } from './components/stackSetRoles';
import { sharedParameterValues } from './components/stackSetParameters';
import { TemplateArtifacts } from './components/templateArtifacts';
import { TransactionStackSet } from './components/transactionStackSet';
import type { PrimaryConfig } from './components/validateConfig';

const config = loadConfig();
const { environmentSuffix, tags } = config;

const image = new LambdaImage('lambda', { environmentSuffix, retainCount: config.imageRetainCount, imageUri: config.imageUri, tags });
const artifacts = new TemplateArtifacts('templates', { environmentSuffix, tags });

/** The primary's StackSet, fed by this stack's artifacts and the secondary stack's outputs. */
function deployStackSet(c: PrimaryConfig) {
  const secondary = new pulumi.StackReference(c.secondaryStack);
  const secondaryImageUri = secondary.requireOutput('imageUri') as pulumi.Output<string>;
  const secondaryTemplateUrls = secondary.requireOutput('templateUrls') as pulumi.Output<Record<string, string>>;
  const roles = c.stackSetRoles.create
    ? new StackSetRoles('stackset-roles', { environmentSuffix, regions: [c.primaryRegion, c.secondaryRegion], tags })
    : c.stackSetRoles;
  const stackSet = new TransactionStackSet('transactions', {
    environmentSuffix,
    tags,
    parameters: sharedParameterValues(c),
    administrationRoleArn: roles.administrationRoleArn,
    executionRoleName: roles.executionRoleName,
    primary: { region: c.primaryRegion, imageUri: image.imageUri, templateUrls: artifacts.templateUrls },
    secondary: {
      region: c.secondaryRegion,
      // Its templates must be the committed ones: a stale upload stops this run before the StackSet changes.
      stack: c.secondaryStack,
      imageUri: secondaryImageUri,
      templateUrls: secondaryTemplateUrls,
    },
  });
  const byRegion = <T>(own: pulumi.Input<T>, other: pulumi.Input<T>) => pulumi.output({ [c.primaryRegion]: own, [c.secondaryRegion]: other });
  return { stackSet, imageUris: byRegion(image.imageUri, secondaryImageUri), templateUrls: byRegion(artifacts.templateUrls, secondaryTemplateUrls) };
}
const primary = config.role === 'primary' ? deployStackSet(config) : undefined;

/** This region's artifacts (the primary reads the secondary's through a StackReference). */
export const imageUri = image.imageUri;
export const templateUrls = artifacts.templateUrls;
/** Primary only. */
export const stackSetName = primary?.stackSet.stackSetName;
export const stackSetId = primary?.stackSet.stackSetId;
export const instanceIds = primary?.stackSet.instanceIds;
export const stackIds = primary?.stackSet.stackIds;
export const deploymentStamps = primary?.stackSet.deploymentStamps;
export const imageUris = primary?.imageUris;
export const templateUrlsByRegion = primary?.templateUrls;
