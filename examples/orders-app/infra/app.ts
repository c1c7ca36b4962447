/**
 * The team's CDK app: their stack with the consumer of `orders`, its handler bundled from
 * src/handler.ts. `npm run synth` (or `npx cdk synth`) needs no AWS credentials.
 */
import { fileURLToPath } from 'node:url'
import { App, Duration, Stack } from 'aws-cdk-lib'
import * as lambda from 'aws-cdk-lib/aws-lambda'
import { ScheduledKafkaConsumer } from 'lambda-kafka-consumer/cdk'

const app = new App()
const stack = new Stack(app, 'OrdersApp', { description: 'Consumes the orders topic every minute' })

const orders = new ScheduledKafkaConsumer(stack, 'OrdersConsumer', {
  entry: fileURLToPath(new URL('../src/handler.ts', import.meta.url)),
  kafkaBootstrapServers: process.env.KAFKA_BOOTSTRAP_SERVERS ?? 'b-1.orders.example.com:9092',
  kafkaTopic: 'orders',
  architecture: lambda.Architecture.ARM_64,
  memorySize: 512,
  timeout: Duration.minutes(2),
  maxMessages: 500,
})

// What the consumer built is there to extend: here, one more variable for the processor.
orders.lambdaFunction.addEnvironment('ORDERS_OWNER', 'team-orders')

app.synth()
