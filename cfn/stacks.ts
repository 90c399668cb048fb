/**
 * Every template tap generates. Order matters only for readability of the
 * synth summary; deployment order is the root's DependsOn.
 */
import { NestedStackDefinition } from './lib/stack';
export { ROOT_TEMPLATE_NAME } from './lib/stack';
import { NetworkStack } from './network';
import { EndpointsStack } from './endpoints';
import { StorageStack } from './storage';
import { DatabaseStack } from './database';
import { ApiStack } from './api';
import { ComputeStack } from './compute';
import { MonitoringStack } from './monitoring';
import { DnsStack } from './dns';

export const NESTED_STACKS: readonly NestedStackDefinition[] = [
  NetworkStack,
  EndpointsStack,
  StorageStack,
  DatabaseStack,
  ApiStack,
  ComputeStack,
  MonitoringStack,
  DnsStack,
];

