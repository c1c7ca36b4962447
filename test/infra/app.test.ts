/**
 * The app's configuration: CDK context first, then the environment; every value typed, every
 * bad value reported with its key.
 */

import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { App } from 'aws-cdk-lib'
import * as sqs from 'aws-cdk-lib/aws-sqs'
import { describe, expect, it } from 'vitest'
import { defineApp, envNameOf, readAppSettings } from '../../infra/app.ts'
import { InvalidConstructPropError } from '../../infra/errors.ts'
import { standInCode } from './support.ts'

const context =
  (values: Record<string, unknown>) =>
  (key: string): unknown =>
    values[key]

describe('readAppSettings', () => {
  it('reads the required keys from context and types the rest', () => {
    const settings = readAppSettings(
      context({
        kafkaBootstrapServers: 'b-1.example.com:9092',
        kafkaTopic: 'orders',
        memorySizeInMb: '1024',
        timeoutInSeconds: '120',
        reservedConcurrency: 'false',
        messageDeadLetterQueue: 'false',
        tableEncryptionKey: true,
        environment: '{"FETCH_MAX_BYTES":"4194304"}',
        shards: '2',
        handlerEntry: 'my-handler.ts',
      }),
      {},
    )
    expect(settings.consumer.entry).toBe(resolve('my-handler.ts'))
    expect(settings.stackName).toBe('LambdaKafkaConsumer')
    expect(settings.consumer).toMatchObject({
      kafkaBootstrapServers: 'b-1.example.com:9092',
      kafkaTopic: 'orders',
      memorySize: 1024,
      // The seed's names, which the app deploys under.
      functionName: 'kafka-consumer-lambda',
      tableName: 'kafka-consumer-offsets',
      reservedConcurrency: false,
      messageDeadLetterQueue: false,
      tableEncryptionKey: true,
      environment: { FETCH_MAX_BYTES: '4194304' },
      shards: 2,
    })
    expect(settings.consumer.timeout?.toSeconds()).toBe(120)
    expect(settings.consumer.kafkaGroupId).toBeUndefined()
    expect(settings.account).toBeUndefined()
  })

  it("falls back to the function's own variables, then to LKC_ ones; context wins", () => {
    const settings = readAppSettings(context({ kafkaTopic: 'from-context' }), {
      KAFKA_BOOTSTRAP_SERVERS: 'env-broker:9092',
      KAFKA_TOPIC: 'from-env',
      LKC_SUBNET_IDS: 'subnet-1, subnet-2',
      LKC_VPC_ID: 'vpc-1',
      CDK_DEFAULT_ACCOUNT: '123456789012',
      CDK_DEFAULT_REGION: 'eu-west-1',
    })
    expect(settings.consumer.kafkaBootstrapServers).toBe('env-broker:9092')
    expect(settings.consumer.kafkaTopic).toBe('from-context')
    expect(settings.existing).toEqual({ vpcId: 'vpc-1', subnetIds: ['subnet-1', 'subnet-2'] })
    // A VPC lookup needs an environment: the CLI's default account and region are used.
    expect([settings.account, settings.region]).toEqual(['123456789012', 'eu-west-1'])
    expect(envNameOf('memorySizeInMb')).toBe('LKC_MEMORY_SIZE_IN_MB')
  })

  it('names the missing or malformed key', () => {
    const attempt = (values: Record<string, unknown>) => {
      try {
        readAppSettings(context(values), {})
      } catch (error) {
        return error
      }
      return undefined
    }
    const missing = attempt({ kafkaTopic: 'orders' })
    expect(missing).toBeInstanceOf(InvalidConstructPropError)
    expect((missing as InvalidConstructPropError).prop).toBe('kafkaBootstrapServers')
    const malformed = attempt({ kafkaBootstrapServers: 'b:9092', kafkaTopic: 't', memorySizeInMb: 'lots' })
    expect((malformed as InvalidConstructPropError).prop).toBe('memorySizeInMb')
    expect((malformed as Error).message).toContain('LKC_MEMORY_SIZE_IN_MB')
    const badJson = attempt({ kafkaBootstrapServers: 'b:9092', kafkaTopic: 't', environment: '{nope' })
    expect((badJson as InvalidConstructPropError).prop).toBe('environment')
  })
})

describe('defineApp', () => {
  const settingsWith = () => {
    const settings = readAppSettings(
      context({ kafkaBootstrapServers: 'b-1.example.com:9092', kafkaTopic: 'orders' }),
      {},
    )
    return { ...settings, consumer: { ...settings.consumer, ...standInCode() } }
  }

  it('synthesizes the stack LambdaKafkaConsumer, cdk-nag passing', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'lkc-app-'))
    const app = new App({ outdir })
    defineApp(app, settingsWith())
    app.synth()
    expect(readdirSync(outdir)).toContain('LambdaKafkaConsumer.template.json')
  })

  it('fails the synthesis on an unacknowledged cdk-nag finding', () => {
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'lkc-app-')) })
    const stack = defineApp(app, settingsWith())
    // A queue that neither requires TLS nor has a dead-letter queue: AwsSolutions-SQS3 and SQS4.
    new sqs.Queue(stack, 'CarelessQueue')
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/)
  })
})
