// What terraform leaves in the base environment's account for previews to derive from (in moto): the
// cluster and API service, its load balancer, listener and target group, the worker function, the bucket.
import { CreateSubnetCommand, CreateVpcCommand, EC2Client } from "@aws-sdk/client-ec2";
import { ECSClient } from "@aws-sdk/client-ecs";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { Environment } from "@content-engine/environments";
import {
  awsFor,
  createEcsService,
  createWorkerFunction,
  digest,
  workerZip,
} from "../../../test/support/delivery-fixtures.ts";
import { MOTO_REGION } from "../../../test/support/moto.ts";
import { type AwsOptions, createClient } from "../../delivery/src/aws.ts";

/** What terraform leaves in dev's account: the cluster and API service, its ALB, the worker, the bucket. */
export async function baseWorld(endpoint: string, base: Environment, aws: AwsOptions = awsFor(endpoint)) {
  const ec2 = createClient(EC2Client, aws);
  const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" }))).Vpc!.VpcId!;
  const subnets = await Promise.all(
    ["a", "b"].map(
      async (zone, i) =>
        (
          await ec2.send(
            new CreateSubnetCommand({
              VpcId: vpc,
              CidrBlock: `10.0.${i}.0/24`,
              AvailabilityZone: `${MOTO_REGION}${zone}`,
            }),
          )
        ).Subnet!.SubnetId!,
    ),
  );
  const elb = createClient(ElasticLoadBalancingV2Client, aws);
  const lb = (
    await elb.send(new CreateLoadBalancerCommand({ Name: base.api.loadBalancer, Subnets: subnets }))
  ).LoadBalancers![0]!;
  const tg = (
    await elb.send(
      new CreateTargetGroupCommand({
        Name: base.api.targetGroup,
        Protocol: "HTTP",
        Port: 8080,
        VpcId: vpc,
        TargetType: "ip",
        HealthCheckPath: "/healthz",
      }),
    )
  ).TargetGroups![0]!;
  await elb.send(
    new CreateListenerCommand({
      LoadBalancerArn: lb.LoadBalancerArn,
      Protocol: "HTTP",
      Port: 80,
      DefaultActions: [{ Type: "forward", TargetGroupArn: tg.TargetGroupArn }],
    }),
  );
  await createEcsService(endpoint, base, `${base.image.repository}@${digest("1")}`, true, aws, {
    subnets,
    securityGroups: [],
  });
  await createWorkerFunction(endpoint, base, workerZip("export const handler = async () => 'dev';"), aws);
  const s3 = new S3Client({ ...aws, forcePathStyle: true });
  await s3.send(
    new CreateBucketCommand({
      Bucket: base.bucket,
      CreateBucketConfiguration: { LocationConstraint: MOTO_REGION },
    }),
  );
  return {
    elb,
    s3,
    ecs: createClient(ECSClient, aws),
    lambda: createClient(LambdaClient, aws),
    sqs: createClient(SQSClient, aws),
  };
}
