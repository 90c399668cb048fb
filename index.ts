// tap: the Pulumi program. Every region stack owns its image and its template
// artifacts; the primary also owns the StackSet and its stack instances. The
// program fails before it declares anything: configuration first, then (primary
// only) what the secondary region's stack staged. Deployment order and teardown:
// README.md, "Deployment".
import * as awsnative from '@pulumi/aws-native';
import * as pulumi from '@pulumi/pulumi';
import { loadConfig } from './program/config';
import { LambdaImage } from './components/lambdaImage';
import { StackSetRoles } from './components/stackSetRoles';
import { sharedParameterValues } from './program/parameters';
import { secondaryImage } from './program/secondary';
import { TemplateArtifacts } from './components/templateArtifacts';
import { TransactionStackSet } from './components/transactionStackSet';
import { checkStackSetParameters } from './program/stackSetParameters';

export = async (): Promise<Record<string, unknown>> => {
  const config = loadConfig();
  const { environmentSuffix, tags } = config;
  if (config.role === 'primary') checkStackSetParameters(sharedParameterValues(config));
  const secondary = config.role === 'primary' ? await secondaryImage(config) : undefined;

  // The repository is an aws-native resource (components/lambdaImage.ts), in this stack's region.
  const native = new awsnative.Provider('aws-native', { region: config.region });
  const image = new LambdaImage('lambda', { environmentSuffix, retainCount: config.imageRetainCount, imageUri: config.imageUri, tags }, { providers: [native] });
  const artifacts = new TemplateArtifacts('templates', { environmentSuffix, tags });
  // This region's artifacts; the primary reads the secondary's through a StackReference.
  const own = { imageUri: image.imageUri, templateUrls: artifacts.templateUrls };
  if (config.role !== 'primary' || secondary === undefined) return own;

  const roles = config.stackSetRoles.create
    ? new StackSetRoles('stackset-roles', { environmentSuffix, regions: [config.primaryRegion, config.secondaryRegion], tags })
    : config.stackSetRoles;
  const stackSet = new TransactionStackSet('transactions', {
    environmentSuffix,
    tags,
    regions: { primary: config.primaryRegion, secondary: config.secondaryRegion },
    images: { primary: image.imageUri, secondary },
    parameters: sharedParameterValues(config),
    administrationRoleArn: roles.administrationRoleArn,
    executionRoleName: roles.executionRoleName,
  });
  return {
    ...own,
    stackSetName: stackSet.stackSetName,
    stackSetId: stackSet.stackSetId,
    instanceIds: stackSet.instanceIds,
    imageUris: pulumi.output({ [config.primaryRegion]: image.imageUri, [config.secondaryRegion]: secondary }),
  };
};
