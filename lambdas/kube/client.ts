import { Agent, type AgentOptions } from 'node:https';
import {
  CoreV1Api,
  createConfiguration,
  KubeConfig,
  ServerConfiguration,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import type { BearerToken } from '../aws/eks';
import { InvalidKubeconfigError, parseKubeconfig } from './kubeconfig';

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

/** How many connections to the API server one container keeps open at most. */
const MAX_SOCKETS = 8;

/**
 * A CoreV1Api that reuses one keep-alive HTTPS agent. client-node 1.x builds a new agent for every
 * request, so every call pays a TCP and TLS handshake; a middleware sets the container's one agent
 * (same CA, client certificate and server name as the kubeconfig says) after client-node's own
 * authentication has run.
 */
function keepAliveApi(kc: KubeConfig): CoreV1Api {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new InvalidKubeconfigError('the kubeconfig names no current cluster (current-context)');
  if (!cluster.server.startsWith('https:') || cluster.proxyUrl) return kc.makeApiClient(CoreV1Api);
  let agent: Promise<Agent> | undefined;
  const makeAgent = async () => {
    const o: AgentOptions & { headers?: unknown } = {};
    await kc.applyToHTTPSOptions(o);
    const { ca, cert, key, rejectUnauthorized, servername } = o;
    return new Agent({ keepAlive: true, maxSockets: MAX_SOCKETS, ca, cert, key, rejectUnauthorized, servername });
  };
  return new CoreV1Api(
    createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: kc },
      promiseMiddleware: [
        {
          pre: async (context: RequestContext) => {
            agent ??= makeAgent();
            context.setAgent(await agent);
            return context;
          },
          post: async (response: ResponseContext) => response,
        },
      ],
    }),
  );
}

/**
 * An EKS API server: endpoint and CA from DescribeCluster, a bearer token minted from the
 * Lambda's IAM role. The client is rebuilt whenever the token source mints a new token.
 */
export function eksApiProvider(
  access: { endpoint: string; certificateAuthorityData: string },
  tokens: TokenSource,
): KubeApiProvider {
  let cached: { token: string; api: CoreV1Api } | undefined;
  return {
    async core() {
      const { token } = await tokens.getToken();
      if (cached?.token !== token) {
        cached = { token, api: keepAliveApi(configFor(access.endpoint, access.certificateAuthorityData, token)) };
      }
      return cached.api;
    },
  };
}

export { InvalidKubeconfigError } from './kubeconfig';

/**
 * A kops cluster: a kubeconfig (from Secrets Manager), read through an allowlist
 * ({@link parseKubeconfig}): one https cluster with its CA inline, one user with a token or a
 * client certificate inline. The client is built from those fields alone.
 */
export function kubeconfigApiProvider(kubeconfigYaml: string): KubeApiProvider {
  const a = parseKubeconfig(kubeconfigYaml);
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'cluster',
        server: a.server,
        caData: a.caData,
        skipTLSVerify: false,
        ...(a.tlsServerName ? { tlsServerName: a.tlsServerName } : {}),
      },
    ],
    users: [
      {
        name: 'node-manager',
        ...('token' in a.user ? { token: a.user.token } : { certData: a.user.certData, keyData: a.user.keyData }),
      },
    ],
    contexts: [{ name: 'node-manager', cluster: 'cluster', user: 'node-manager' }],
    currentContext: 'node-manager',
  });
  const api = keepAliveApi(kc);
  return { core: async () => api };
}
