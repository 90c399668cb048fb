/**
 * Template size limits, measured on the exact bytes synth writes.
 * - nested templates: CloudFormation's 1 MB limit for a template in S3;
 * - the root: 51,200 bytes, the limit of a TemplateBody passed inline, which is
 *   how the StackSet carries it.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
 */
import { JsonObject, renderTemplate } from '../../cfn/lib/template';
import { Finding } from './types';

export const NESTED_TEMPLATE_MAX_BYTES = 1_000_000;
export const ROOT_TEMPLATE_MAX_BYTES = 51_200;

export function validateSize(templates: ReadonlyMap<string, JsonObject>, rootName: string): Finding[] {
  const findings: Finding[] = [];
  for (const [name, t] of templates) {
    const bytes = Buffer.byteLength(renderTemplate(t), 'utf8');
    const limit = name === rootName ? ROOT_TEMPLATE_MAX_BYTES : NESTED_TEMPLATE_MAX_BYTES;
    if (bytes >= limit) {
      const what = name === rootName ? 'root template (inline StackSet TemplateBody)' : 'nested template';
      findings.push({ check: 'size', template: name, path: '', message: `${bytes} bytes; a ${what} must stay under ${limit} bytes` });
    }
  }
  return findings;
}
