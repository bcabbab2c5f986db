import { DescribeClusterCommand, ResourceNotFoundException as EksNotFound } from '@aws-sdk/client-eks';
import { GetSecretValueCommand, ResourceNotFoundException as SecretNotFound } from '@aws-sdk/client-secrets-manager';
import { meta, operation, type AwsHost, type Operation } from './common';

/** EKS DescribeCluster: the endpoint and CA of a cluster whose API server is the simulator's. */
export function eksOperations(host: AwsHost): Operation[] {
  return [
    operation('DescribeCluster', DescribeClusterCommand, (input) => {
      const c = input.name ? host.eksClusters.get(input.name) : undefined;
      if (!c) throw new EksNotFound({ message: `No cluster found for name: ${input.name}.`, $metadata: meta(404) });
      return {
        cluster: {
          name: input.name,
          arn: `arn:aws:eks:${host.region.name}:${host.account}:cluster/${input.name}`,
          endpoint: c.endpoint(),
          certificateAuthority: { data: c.caData },
          status: 'ACTIVE',
          version: '1.33',
        },
      };
    }),
  ];
}

/** Secrets Manager GetSecretValue: the kubeconfig a kops cluster's node-manager reads. */
export function secretsOperations(host: AwsHost): Operation[] {
  return [
    operation('GetSecretValue', GetSecretValueCommand, (input) => {
      const value = input.SecretId ? host.secrets.get(input.SecretId) : undefined;
      if (value === undefined)
        throw new SecretNotFound({
          message: "Secrets Manager can't find the specified secret.",
          $metadata: meta(400),
        });
      return {
        ARN: `arn:aws:secretsmanager:${host.region.name}:${host.account}:secret:${input.SecretId}-AbCdEf`,
        Name: input.SecretId,
        SecretString: value(),
        VersionId: 'v1',
      };
    }),
  ];
}
