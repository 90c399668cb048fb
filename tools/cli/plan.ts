/**
 * `npm run plan`: the deployment waves and the estimated critical paths of a
 * first deployment and of the common updates, per region, with the assumptions
 * (tools/review/deploymentPlan.ts). `npm run synth` writes the same plan, with the timing
 * table and its sources, to docs/deployment-plan.md.
 */
import { synthesize } from '../../cfn/build';
import { deploymentPlan, formatPlan } from '../review/deploymentPlan';

try {
  process.stdout.write(formatPlan(deploymentPlan(synthesize())));
} catch (e) {
  process.stderr.write(`plan: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
