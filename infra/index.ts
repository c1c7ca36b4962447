/**
 * `lambda-kafka-consumer/cdk`: the construct a team adds to its own CDK app, its props and what it
 * exposes. Needs `aws-cdk-lib` and `constructs` (peer dependencies) and, to bundle `entry`,
 * `esbuild` in the app's project.
 *
 *   import { ScheduledKafkaConsumer } from 'lambda-kafka-consumer/cdk'
 *   new ScheduledKafkaConsumer(stack, 'Orders', { entry: 'src/handler.ts', kafkaBootstrapServers, kafkaTopic: 'orders' })
 */
export {
  alarmDefinitions,
  type ConsumerAlarmDefinition,
  ConsumerMetrics,
  ConsumerMonitoring,
  type ConsumerMonitoringOptions,
  type ConsumerMonitoringProps,
} from './consumer-monitoring.ts'
export { type MskClusterArn, parseMskClusterArn, type ScheduleKind } from './consumer-props.ts'
export { InvalidConstructPropError } from './errors.ts'
export type { ExecutionRoleGrant, GrantContext } from './execution-role.ts'
export { DEFAULT_HANDLER_ENTRY } from './function-code.ts'
export {
  type ExistingResources,
  KafkaConsumerStack,
  type KafkaConsumerStackProps,
} from './kafka-consumer-stack.ts'
export {
  type ConsumerShard,
  ScheduledKafkaConsumer,
  type ScheduledKafkaConsumerProps,
} from './scheduled-kafka-consumer.ts'
