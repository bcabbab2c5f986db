import type { EKSClient } from '@aws-sdk/client-eks';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { formatUrl } from '@aws-sdk/util-format-url';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { ResourceNotFoundError } from '../core';
import { call } from './errors';
import { sdk } from './lazy';

export interface EksClusterAccess {
  readonly name: string;
  readonly endpoint: string;
  /** Base64 PEM of the cluster CA, as DescribeCluster returns it. */
  readonly certificateAuthorityData: string;
  readonly status: string;
}

export class EksPort {
  constructor(private readonly client: EKSClient) {}

  async describeCluster(name: string): Promise<EksClusterAccess> {
    // Loaded here, not at cold start: a function needs one of EKS and Secrets Manager, once per container.
    const { DescribeClusterCommand } = sdk.eks();
    const out = await call('DescribeCluster', () => this.client.send(new DescribeClusterCommand({ name })));
    const c = out.cluster;
    if (!c?.endpoint || !c.certificateAuthority?.data) {
      throw new ResourceNotFoundError(
        'cluster',
        `EKS cluster ${name} has no endpoint or CA yet (status ${c?.status ?? 'unknown'})`,
      );
    }
    return {
      name,
      endpoint: c.endpoint,
      certificateAuthorityData: c.certificateAuthority.data,
      status: c.status ?? 'UNKNOWN',
    };
  }
}

export class SecretsPort {
  constructor(private readonly client: SecretsManagerClient) {}

  async getSecretString(secretId: string): Promise<string> {
    const { GetSecretValueCommand } = sdk.secrets();
    const out = await call('GetSecretValue', () => this.client.send(new GetSecretValueCommand({ SecretId: secretId })));
    if (out.SecretString === undefined)
      throw new ResourceNotFoundError(
        'secret',
        `secret ${secretId} holds no string (binary secrets are not supported)`,
      );
    return out.SecretString;
  }
}

/** The presigned URL's lifetime, as aws-iam-authenticator and `aws eks get-token` use it. */
export const EKS_TOKEN_EXPIRES_SECONDS = 60;
/** Mint a new token this long before the old one expires, so that no request carries a stale one. */
export const EKS_TOKEN_REFRESH_MARGIN_SECONDS = 15;

export interface BearerToken {
  readonly token: string;
  readonly expiresAt: number;
}

/**
 * Bearer tokens for an EKS API server, as aws-iam-authenticator verifies them:
 * `k8s-aws-v1.` + base64url (unpadded) of a presigned STS GetCallerIdentity URL whose signed
 * headers include `x-k8s-aws-id: <cluster name>`.
 */
export class EksTokenSource {
  private current?: BearerToken;

  constructor(
    private readonly clusterName: string,
    private readonly region: string,
    private readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider,
    private readonly now: () => number = Date.now,
  ) {}

  async getToken(): Promise<BearerToken> {
    const now = this.now();
    if (this.current && now < this.current.expiresAt - EKS_TOKEN_REFRESH_MARGIN_SECONDS * 1000) return this.current;
    const hostname = `sts.${this.region}.amazonaws.com`;
    const signer = new SignatureV4({
      credentials: this.credentials,
      region: this.region,
      service: 'sts',
      sha256: Sha256,
    });
    const request = new HttpRequest({
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      headers: { host: hostname, 'x-k8s-aws-id': this.clusterName },
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    });
    const signed = await signer.presign(request, { expiresIn: EKS_TOKEN_EXPIRES_SECONDS, signingDate: new Date(now) });
    const token = `k8s-aws-v1.${Buffer.from(formatUrl(signed)).toString('base64url')}`;
    this.current = { token, expiresAt: now + EKS_TOKEN_EXPIRES_SECONDS * 1000 };
    return this.current;
  }
}
