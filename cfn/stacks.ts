/**
 * Every template tap generates. Order matters only for readability of the
 * synth summary; deployment order is the root's DependsOn.
 */
import { NestedStackDefinition } from './lib/stack';
import { NetworkStack } from './network';

export const NESTED_STACKS: readonly NestedStackDefinition[] = [NetworkStack];

export const ROOT_TEMPLATE_NAME = 'TapStack';
