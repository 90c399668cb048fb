/**
 * Loads the stack configuration (Pulumi.yaml declares the schema and defaults,
 * Pulumi.<stack>.yaml sets the values) and validates all of it before the
 * program declares any resource.
 */
import * as pulumi from '@pulumi/pulumi';
import { RawConfig, TapConfig, validateConfig } from './validateConfig';

export type { TapConfig } from './validateConfig';

/** The Pulumi project name, and so the configuration namespace (`tap:<key>`). */
export const CONFIG_NAMESPACE = 'tap';

/**
 * Every `tap:*` value as raw text (unknown keys included, so typos are reported),
 * plus aws:region. The CLI has already merged Pulumi.yaml's defaults in.
 */
export function readRawConfig(): RawConfig {
  const tap: Record<string, string | undefined> = {};
  for (const [fullKey, value] of Object.entries(pulumi.runtime.allConfig())) {
    const [namespace, key] = fullKey.split(':', 2);
    if (namespace === CONFIG_NAMESPACE && key !== undefined) tap[key] = value;
  }
  return { tap, awsRegion: new pulumi.Config('aws').get('region') };
}

/** The validated configuration; throws one error listing every bad key. */
export const loadConfig = (): TapConfig => validateConfig(readRawConfig());
