import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { SIM_CA_PEM } from './kube/tls';
import type { UserInfo } from './kube/rbac';

/** node-manager's identity on a kops cluster: the service account `deploy/rbac-kops.yaml` binds. */
export const NODE_MANAGER_TOKEN = 'node-manager-sa-token';
export const NODE_MANAGER_USER: UserInfo = {
  name: 'system:serviceaccount:kube-system:node-manager',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
};

/** What identity needs of the world: the time, the region, the cluster's name and its API server. */
export interface IdentityHost {
  now(): number;
  readonly regionName: string;
  readonly clusterName: string;
  readonly account: string;
  apiUrl(): string;
}

/**
 * Who may call what: the access keys the simulated STS knows, the API server's static tokens,
 * EKS clusters (DescribeCluster's endpoint and CA) and Secrets Manager's secrets (a kops
 * cluster's kubeconfig). It verifies EKS tokens as aws-iam-authenticator does.
 */
export class Identity {
  /** Access keys the simulated STS knows (to verify EKS tokens). */
  readonly credentials = new Map<string, { secretAccessKey: string; sessionToken?: string }>();
  /** Static bearer tokens and who they are: the product's service account, and an administrator for kubectl. */
  readonly staticTokens = new Map<string, UserInfo>();
  readonly eksClusters = new Map<string, { endpoint: () => string; caData: string }>();
  readonly secrets = new Map<string, () => string>();

  constructor(private readonly host: IdentityHost) {}

  /** An EKS cluster whose endpoint is the simulator's API server. */
  registerEksCluster(name: string): void {
    this.eksClusters.set(name, {
      endpoint: () => this.host.apiUrl(),
      caData: Buffer.from(SIM_CA_PEM).toString('base64'),
    });
  }

  putSecret(id: string, value: string | (() => string)): void {
    this.secrets.set(id, typeof value === 'string' ? () => value : value);
  }

  /** A kubeconfig pointing at the API server with a static token, which authenticates as `user`. */
  kubeconfig(token = NODE_MANAGER_TOKEN, user: UserInfo = NODE_MANAGER_USER): string {
    this.staticTokens.set(token, user);
    const cluster = this.host.clusterName;
    const userName = user.name.replace(/[^A-Za-z0-9._-]/g, '-');
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: ${cluster}`,
      '  cluster:',
      `    server: ${this.host.apiUrl()}`,
      `    certificate-authority-data: ${Buffer.from(SIM_CA_PEM).toString('base64')}`,
      'users:',
      `- name: ${userName}`,
      '  user:',
      `    token: ${token}`,
      'contexts:',
      `- name: ${cluster}`,
      '  context:',
      `    cluster: ${cluster}`,
      `    user: ${userName}`,
      `current-context: ${cluster}`,
      '',
    ].join('\n');
  }

  /** Who a bearer token is: a static token, or an EKS token of known credentials (the access entry's group). */
  async authenticate(token: string): Promise<UserInfo | undefined> {
    const known = this.staticTokens.get(token);
    if (known) return known;
    if (!token.startsWith('k8s-aws-v1.')) return undefined;
    // The EKS access entry maps node-manager's role to the Kubernetes group "node-manager".
    return (await this.verifyEksToken(token.slice('k8s-aws-v1.'.length)))
      ? {
          name: `arn:aws:sts::${this.host.account}:assumed-role/node-manager/lambda`,
          groups: ['node-manager', 'system:authenticated'],
        }
      : undefined;
  }

  /**
   * What aws-iam-authenticator does, with STS's signature check done here: the URL must be a
   * presigned GetCallerIdentity on the regional STS endpoint, signed over `x-k8s-aws-id: <cluster>`,
   * by known credentials, no older than 15 minutes.
   */
  private async verifyEksToken(encoded: string): Promise<boolean> {
    let url: URL;
    try {
      url = new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
    } catch {
      return false;
    }
    const q = url.searchParams;
    const region = this.host.regionName;
    const now = this.host.now();
    if (url.protocol !== 'https:' || url.hostname !== `sts.${region}.amazonaws.com` || url.pathname !== '/')
      return false;
    if (q.get('Action') !== 'GetCallerIdentity' || q.get('Version') !== '2011-06-15') return false;
    if (!(q.get('X-Amz-SignedHeaders') ?? '').split(';').includes('x-k8s-aws-id')) return false;
    const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(q.get('X-Amz-Date') ?? '');
    if (!date) return false;
    const signedAt = Date.UTC(+date[1], +date[2] - 1, +date[3], +date[4], +date[5], +date[6]);
    if (now - signedAt > 15 * 60_000 || signedAt - now > 5 * 60_000) return false;
    const accessKeyId = (q.get('X-Amz-Credential') ?? '').split('/')[0];
    const creds = this.credentials.get(accessKeyId);
    if (!creds) return false;
    // Re-sign the same request; the signature only matches if the cluster name was signed in.
    const signer = new SignatureV4({ credentials: { accessKeyId, ...creds }, region, service: 'sts', sha256: Sha256 });
    const query: Record<string, string> = { Action: 'GetCallerIdentity', Version: '2011-06-15' };
    const request = new HttpRequest({
      method: 'GET',
      protocol: 'https:',
      hostname: url.hostname,
      path: '/',
      headers: { host: url.hostname, 'x-k8s-aws-id': this.host.clusterName },
      query,
    });
    const expected = await signer.presign(request, {
      expiresIn: Number(q.get('X-Amz-Expires') ?? '60'),
      signingDate: new Date(signedAt),
    });
    return expected.query?.['X-Amz-Signature'] === q.get('X-Amz-Signature');
  }
}
