import * as path from 'path';
import { TemplateBuilder } from './template';

/** The root template's file name (without .json) in cfn/templates/. */
export const ROOT_TEMPLATE_NAME = 'TapStack';

/** cfn/templates: written by `npm run synth`, committed, and read by the Pulumi program at run time. */
export const TEMPLATES_DIR = path.join(__dirname, '..', 'templates');

/** A nested stack: its template generator and its place in the root template. */
export interface NestedStackDefinition {
  /** File name without .json in cfn/templates/, and the logical ID in TapStack.json. */
  readonly templateName: `${string}Stack`;
  /** Builds the template. Pure: no I/O, no clock, no randomness. */
  build(): TemplateBuilder;
}

/** Root parameter carrying the content-addressed S3 URL of a nested template. */
export const templateUrlParameter = (templateName: string): string => `${templateName}TemplateUrl`;
