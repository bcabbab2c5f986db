import { EKSClient } from '@aws-sdk/client-eks';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { EKS_TOKEN_EXPIRES_SECONDS, EksPort, EksTokenSource, SecretsPort } from '../../lambdas/aws/eks';
import { eksApiProvider, InvalidKubeconfigError, kubeconfigApiProvider } from '../../lambdas/kube/client';
import { KubePort } from '../../lambdas/kube/port';
import { KubeForbiddenError, ResourceNotFoundError } from '../../lambdas/core';
import { Simulator } from '../../sim/simulator';

const credentials = {
  accessKeyId: process.env.AWS_ACCESS_KEY_ID!,
  secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY!,
};

describe('cluster access', () => {
  let sim: Simulator;
  beforeEach(async () => {
    sim = await Simulator.start({ clusterName: 'prod' });
    sim.addNodeGroup({ name: 'nodes', role: 'worker', zones: ['ap-northeast-1a'], perZone: 2 });
  });
  afterEach(() => sim.stop());

  it('EKS: endpoint and CA from DescribeCluster, a presigned STS token the API server verifies', async () => {
    sim.registerEksCluster('prod');
    const access = await new EksPort(new EKSClient({})).describeCluster('prod');
    expect(access.endpoint).toBe(sim.apiServer.url);
    const tokens = new EksTokenSource('prod', 'ap-northeast-1', credentials, () => sim.now());
    const { token, expiresAt } = await tokens.getToken();
    expect(token).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    expect(expiresAt).toBe(sim.now() + EKS_TOKEN_EXPIRES_SECONDS * 1000);
    const url = new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString());
    expect(url.host).toBe('sts.ap-northeast-1.amazonaws.com');
    expect(url.searchParams.get('Action')).toBe('GetCallerIdentity');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    const kube = new KubePort(eksApiProvider(access, tokens));
    expect(await kube.listNodes()).toHaveLength(2);
  });

  it('EKS: refreshes the token before it expires; a stale or foreign token is refused', async () => {
    sim.registerEksCluster('prod');
    const tokens = new EksTokenSource('prod', 'ap-northeast-1', credentials, () => sim.now());
    const first = await tokens.getToken();
    sim.advance(40);
    expect((await tokens.getToken()).token).toBe(first.token);
    sim.advance(10);
    const second = await tokens.getToken();
    expect(second.token).not.toBe(first.token);
    const access = await new EksPort(new EKSClient({})).describeCluster('prod');
    const kube = new KubePort(eksApiProvider(access, tokens));
    sim.advance(16 * 60);
    await expect(kube.listNodes()).resolves.toHaveLength(2);
    // A token older than 15 minutes, or signed for another cluster, is refused.
    const frozen = new KubePort(eksApiProvider(access, { getToken: async () => second }));
    await expect(frozen.listNodes()).rejects.toBeInstanceOf(KubeForbiddenError);
    const other = new EksTokenSource('staging', 'ap-northeast-1', credentials, () => sim.now());
    await expect(new KubePort(eksApiProvider(access, other)).listNodes()).rejects.toBeInstanceOf(KubeForbiddenError);
  });

  it('EKS: an unknown cluster is ResourceNotFound', async () => {
    await expect(new EksPort(new EKSClient({})).describeCluster('nope')).rejects.toBeInstanceOf(ResourceNotFoundError);
  });

  it('kops: a kubeconfig from Secrets Manager', async () => {
    sim.putSecret('kops/kubeconfig', sim.kubeconfig());
    const yaml = await new SecretsPort(new SecretsManagerClient({})).getSecretString('kops/kubeconfig');
    expect(await new KubePort(kubeconfigApiProvider(yaml)).listNodes()).toHaveLength(2);
    await expect(new SecretsPort(new SecretsManagerClient({})).getSecretString('missing')).rejects.toBeInstanceOf(
      ResourceNotFoundError,
    );
  });

  it('kops: reads a kubeconfig through an allowlist, refusing by name what would read files, run programs, skip TLS, proxy or impersonate', () => {
    const good = sim.kubeconfig();
    const withUser = (extra: string) => good.replace(/( {4}token: .*)/, `$1\n    ${extra}`);
    const withCluster = (extra: string) => good.replace(/( {4}server: .*)/, `$1\n    ${extra}`);
    const cases: Array<[string, RegExp]> = [
      [
        good.replace(
          / {4}token: .*/,
          '    exec:\n      command: aws\n      apiVersion: client.authentication.k8s.io/v1beta1',
        ),
        /"exec" is not allowed: a Lambda has no CLI/,
      ],
      [withUser('token-file: /etc/passwd'), /"token-file" is not allowed/],
      [withUser('as: system:admin'), /"as" is not allowed: impersonation/],
      [withUser('as-groups: [system:masters]'), /"as-groups" is not allowed/],
      [withCluster('insecure-skip-tls-verify: true'), /"insecure-skip-tls-verify" is not allowed/],
      [withCluster('proxy-url: http://10.0.0.1:3128'), /"proxy-url" is not allowed/],
      [
        good.replace(/certificate-authority-data: .*/, 'certificate-authority: /etc/ssl/ca.pem'),
        /"certificate-authority" is not allowed/,
      ],
      [good.replace(/server: https/, 'server: http'), /"server" must be an https:\/\/ URL/],
      ['apiVersion: v1\nkind: Config\n', /no current-context/],
    ];
    for (const [yaml, message] of cases) expect(() => kubeconfigApiProvider(yaml)).toThrow(message);
    expect(() => kubeconfigApiProvider(withUser('as: x'))).toThrow(InvalidKubeconfigError);
  });

  it("kops: no error ever carries the kubeconfig's secret material", () => {
    const marker = 'MARKER-SECRET-7f3a9c';
    const broken = sim.kubeconfig(marker).replace(`token: ${marker}`, `token: "${marker}\n  oops: [`);
    const messages = [
      broken,
      sim.kubeconfig(marker).replace(/( {4}token: .*)/, '$1\n    token-file: /x'),
      sim.kubeconfig(marker).replace(/( {4}token: .*)/, `$1\n    client-key-data: ${marker}`),
    ].map((y) => {
      try {
        kubeconfigApiProvider(y);
        return '';
      } catch (e) {
        return `${(e as Error).message} ${String((e as Error).cause ?? '')}`;
      }
    });
    expect(messages.every((m) => m.length > 0)).toBe(true);
    for (const m of messages) expect(m).not.toContain(marker);
  });
});
