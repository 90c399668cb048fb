import { createHash } from 'crypto';
import * as path from 'path';
import { Names, globalNamePattern } from './names';

/** The root template's file name (without .json) in cfn/templates/. */
export const ROOT_TEMPLATE_NAME = 'TapStack';

/** cfn/templates: written by `npm run synth`, committed, and read by the Pulumi program at run time. */
export const TEMPLATES_DIR = path.join(__dirname, '..', 'templates');

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Hex digits of the content hash in an object key: 64 bits, ample to tell versions of one template apart. */
export const KEY_HASH_LENGTH = 16;

/**
 * S3 key of a nested template: the content hash in the key makes every version a
 * new URL, so CloudFormation updates a nested stack's resources exactly when its
 * template changed. The Pulumi program uploads each committed file under this
 * key, and the root names the same key in its TemplateURL.
 */
export const templateObjectKey = (templateName: string, body: string): string =>
  `templates/${templateName}-${sha256(body).slice(0, KEY_HASH_LENGTH)}.json`;

/** `tap-templates-${EnvironmentSuffix}-${AWS::AccountId}-${AWS::Region}`: each region's template bucket (Fn::Sub pattern). */
export const TEMPLATE_BUCKET_PATTERN = globalNamePattern(Names.templateBucket);

/**
 * TemplateURL of a nested stack as the root writes it (Fn::Sub pattern): the
 * deploying region's own bucket and the template's content-addressed key, so one
 * root template serves both regions and no URL is a parameter.
 * Virtual-hosted-style regional URL, the form CloudFormation's TemplateURL accepts.
 */
export const templateUrlPattern = (templateName: string, body: string): string =>
  `https://${TEMPLATE_BUCKET_PATTERN}.s3.\${AWS::Region}.\${AWS::URLSuffix}/${templateObjectKey(templateName, body)}`;

/** The same URL with the pattern's variables filled in: what the Pulumi program checks the uploads against. */
export const templateUrl = (bucket: string, region: string, key: string, urlSuffix = 'amazonaws.com'): string =>
  `https://${bucket}.s3.${region}.${urlSuffix}/${key}`;
