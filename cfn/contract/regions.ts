/** Regions tap deploys to: one list, used by linting, config validation and the Pulumi program. */
export const PRIMARY_REGION = 'us-east-1';
export const SECONDARY_REGION = 'eu-west-1';
export const DEPLOYMENT_REGIONS: readonly string[] = [PRIMARY_REGION, SECONDARY_REGION];

/**
 * Every region code of the commercial partition (`aws`), so configuration can
 * refuse a typo such as `eu-west-4` before anything is deployed. Source: the
 * AWS Regions table, https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html
 * (opt-in regions included; they must be enabled in the account first).
 */
export const COMMERCIAL_REGIONS: readonly string[] = [
  'af-south-1',
  'ap-east-1', 'ap-east-2',
  'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3',
  'ap-south-1', 'ap-south-2',
  'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-6', 'ap-southeast-7',
  'ca-central-1', 'ca-west-1',
  'eu-central-1', 'eu-central-2',
  'eu-north-1',
  'eu-south-1', 'eu-south-2',
  'eu-west-1', 'eu-west-2', 'eu-west-3',
  'il-central-1',
  'me-central-1', 'me-south-1',
  'mx-central-1',
  'sa-east-1',
  'us-east-1', 'us-east-2',
  'us-west-1', 'us-west-2',
];
