/**
 * The function's place in a VPC, for a private Kafka cluster: its security group (outbound only),
 * the endpoints that spare a NAT gateway (DynamoDB's free gateway; Secrets Manager and SQS
 * interfaces, billed hourly), and the network-interface permissions Lambda uses with the
 * execution role. Endpoints belong to the VPC, not to one consumer: a second consumer in the same
 * VPC reuses them (and is let in on their port 443).
 */
import { Stack } from 'aws-cdk-lib'
import * as ec2 from 'aws-cdk-lib/aws-ec2'
import * as iam from 'aws-cdk-lib/aws-iam'
import type { Construct } from 'constructs'
import type { ResolvedProps } from './consumer-props.ts'

export interface ConsumerNetwork {
  readonly vpc: ec2.IVpc
  readonly securityGroups: readonly ec2.ISecurityGroup[]
  /** Lambda checks these permissions when it creates the function: the function depends on it. */
  readonly networkInterfacePolicy: iam.Policy
}

export function placeInVpc(
  scope: Construct,
  props: ResolvedProps,
  vpc: ec2.IVpc,
  role: iam.IRole,
  description: string,
): ConsumerNetwork {
  const securityGroups = props.securityGroups ?? [
    new ec2.SecurityGroup(scope, 'SecurityGroup', {
      vpc,
      description: `${description}: outbound to Kafka, DynamoDB and AWS APIs; no inbound`,
      allowAllOutbound: true,
    }),
  ]
  if (props.dynamoDbGatewayEndpoint) {
    sharedEndpoint(vpc, 'DynamoDbEndpoint', () =>
      vpc.addGatewayEndpoint('DynamoDbEndpoint', {
        service: ec2.GatewayVpcEndpointAwsService.DYNAMODB,
        ...(props.vpcSubnets && { subnets: [props.vpcSubnets] }),
      }),
    )
  }
  const interfaceEndpoint = (id: string, service: ec2.InterfaceVpcEndpointAwsService) => {
    const group = sharedEndpoint(vpc, `${id}SecurityGroup`, () => {
      const endpointGroup = new ec2.SecurityGroup(vpc, `${id}SecurityGroup`, {
        vpc,
        description: `HTTPS from the Kafka consumers to ${id}`,
        allowAllOutbound: false,
      })
      vpc.addInterfaceEndpoint(id, {
        service,
        ...(props.vpcSubnets && { subnets: props.vpcSubnets }),
        securityGroups: [endpointGroup],
        privateDnsEnabled: true,
        open: false,
      })
      return endpointGroup
    }) as ec2.SecurityGroup
    for (const source of securityGroups) {
      group.addIngressRule(source, ec2.Port.tcp(443), `HTTPS from ${description}`)
    }
  }
  if (props.secretsManagerEndpoint) {
    interfaceEndpoint('SecretsManagerEndpoint', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER)
  }
  if (props.sqsEndpoint) interfaceEndpoint('SqsEndpoint', ec2.InterfaceVpcEndpointAwsService.SQS)

  // Lambda creates and deletes the function's network interfaces with the execution role.
  // The Describe actions work only on '*'; the writes are kept to this account and region,
  // in the form the Lambda VPC guide gives (the ENIs' ids are not known in advance).
  const stack = Stack.of(scope)
  const networkInterfacePolicy = new iam.Policy(scope, 'VpcNetworkInterfaces', {
    statements: [
      new iam.PolicyStatement({
        sid: 'DescribeNetworkInterfaces',
        actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'ManageNetworkInterfaces',
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: [`arn:${stack.partition}:ec2:${stack.region}:${stack.account}:*/*`],
      }),
    ],
  })
  role.attachInlinePolicy(networkInterfacePolicy)
  return { vpc, securityGroups, networkInterfacePolicy }
}

/** The endpoint (or group) made once per VPC, whichever consumer comes first. */
function sharedEndpoint<T extends Construct>(vpc: ec2.IVpc, id: string, create: () => T): T {
  return (vpc.node.tryFindChild(id) as T | undefined) ?? create()
}
