/**
 * Every template tap generates. Order matters only for readability of the
 * synth summary; deployment order is the root's DependsOn.
 */
export { ROOT_TEMPLATE_NAME } from '../contract/layout';
import { NestedStackDefinition } from '../lib/template';
import { NetworkStack } from './network';
import { EndpointsStack } from './endpoints';
import { StorageStack } from './storage';
import { DatabaseStack } from './database/stack';
import { ApiStack } from './api';
import { ComputeStack } from './compute/stack';
import { MonitoringStack } from './monitoring/stack';
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

