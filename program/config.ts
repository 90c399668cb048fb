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
 * Every `tap:*` value of a stack's `<namespace>:<key>` config map as raw text
 * (unknown keys included, so typos are reported), plus aws:region.
 */
export function rawConfig(all: Readonly<Record<string, string>>): RawConfig {
  const tap: Record<string, string | undefined> = {};
  for (const [fullKey, value] of Object.entries(all)) {
    const [namespace, key] = fullKey.split(':', 2);
    if (namespace === CONFIG_NAMESPACE && key !== undefined) tap[key] = value;
  }
  return { tap, awsRegion: all['aws:region'] };
}

/** The running stack's raw configuration; the CLI has already merged Pulumi.yaml's defaults in. */
export const readRawConfig = (): RawConfig => rawConfig(pulumi.runtime.allConfig());

/** The validated configuration; throws one error listing every bad key. */
export const loadConfig = (): TapConfig => validateConfig(readRawConfig());
