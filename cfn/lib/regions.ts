/** Regions tap deploys to: one list, used by linting, config validation and the Pulumi program. */
export const PRIMARY_REGION = 'us-east-1';
export const SECONDARY_REGION = 'eu-west-1';
export const DEPLOYMENT_REGIONS: readonly string[] = [PRIMARY_REGION, SECONDARY_REGION];
