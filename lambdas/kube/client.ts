import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { BearerToken } from '../aws/eks';

/** Gives a CoreV1Api whose credentials are valid now. */
export interface KubeApiProvider {
  core(): Promise<CoreV1Api>;
}

export interface TokenSource {
  getToken(): Promise<BearerToken>;
}

function configFor(server: string, caData: string, token: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'cluster', server, caData, skipTLSVerify: false }],
    users: [{ name: 'node-manager', token }],
    contexts: [{ name: 'node-manager', cluster: 'cluster', user: 'node-manager' }],
    currentContext: 'node-manager',
  });
  return kc;
}

/**
 * An EKS API server: endpoint and CA from DescribeCluster, a bearer token minted from the
 * Lambda's IAM role. The client is rebuilt whenever the token source mints a new token.
 */
export function eksApiProvider(access: { endpoint: string; certificateAuthorityData: string }, tokens: TokenSource): KubeApiProvider {
  let cached: { token: string; api: CoreV1Api } | undefined;
  return {
    async core() {
      const { token } = await tokens.getToken();
      if (cached?.token !== token) {
        cached = { token, api: configFor(access.endpoint, access.certificateAuthorityData, token).makeApiClient(CoreV1Api) };
      }
      return cached.api;
    },
  };
}

/** Thrown when a kubeconfig cannot be used as given. */
export class InvalidKubeconfigError extends Error {
  readonly name = 'InvalidKubeconfig';
}

/**
 * A kops cluster: a kubeconfig (from Secrets Manager) with its current context. Exec and
 * auth-provider plugins are refused: a Lambda has no CLI to run them.
 */
export function kubeconfigApiProvider(kubeconfigYaml: string): KubeApiProvider {
  const kc = new KubeConfig();
  try {
    kc.loadFromString(kubeconfigYaml);
  } catch (e) {
    throw new InvalidKubeconfigError(`the kubeconfig does not parse: ${(e as Error).message}`, { cause: e });
  }
  const user = kc.getCurrentUser();
  const cluster = kc.getCurrentCluster();
  if (!cluster || !user) throw new InvalidKubeconfigError('the kubeconfig has no current context with a cluster and a user');
  if (user.exec || user.authProvider) {
    throw new InvalidKubeconfigError(`user ${user.name} authenticates with an exec or auth-provider plugin; use a token or a client certificate`);
  }
  const api = kc.makeApiClient(CoreV1Api);
  return { core: async () => api };
}
