import { Agent, type AgentOptions } from 'node:https';
import {
  CoreV1Api,
  EventsV1Api,
  PolicyV1Api,
  createConfiguration,
  KubeConfig,
  ServerConfiguration,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import type { BearerToken } from '../aws/eks';
import { InvalidKubeconfigError, parseKubeconfig } from './kubeconfig';

/** Gives API clients whose credentials are valid now. */
export interface KubeApiProvider {
  core(): Promise<CoreV1Api>;
  /** policy/v1: the disruption budgets a dry run reads. */
  policy(): Promise<PolicyV1Api>;
  /** events.k8s.io/v1: the Events node-manager records on the nodes it acts on. */
  events(): Promise<EventsV1Api>;
}

/** The clients of one set of credentials, sharing one configuration (and its keep-alive agent). */
interface Apis {
  readonly core: CoreV1Api;
  readonly policy: PolicyV1Api;
  readonly events: EventsV1Api;
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
function keepAliveApi(kc: KubeConfig): Apis {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new InvalidKubeconfigError('the kubeconfig names no current cluster (current-context)');
  if (!cluster.server.startsWith('https:') || cluster.proxyUrl)
    return {
      core: kc.makeApiClient(CoreV1Api),
      policy: kc.makeApiClient(PolicyV1Api),
      events: kc.makeApiClient(EventsV1Api),
    };
  let agent: Promise<Agent> | undefined;
  const makeAgent = async () => {
    const o: AgentOptions & { headers?: unknown } = {};
    await kc.applyToHTTPSOptions(o);
    const { ca, cert, key, rejectUnauthorized, servername } = o;
    return new Agent({ keepAlive: true, maxSockets: MAX_SOCKETS, ca, cert, key, rejectUnauthorized, servername });
  };
  const configuration = createConfiguration({
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
  });
  return {
    core: new CoreV1Api(configuration),
    policy: new PolicyV1Api(configuration),
    events: new EventsV1Api(configuration),
  };
}

/**
 * An EKS API server: endpoint and CA from DescribeCluster, a bearer token minted from the
 * Lambda's IAM role. The client is rebuilt whenever the token source mints a new token.
 */
export function eksApiProvider(
  access: { endpoint: string; certificateAuthorityData: string },
  tokens: TokenSource,
): KubeApiProvider {
  let cached: { token: string; api: Apis } | undefined;
  const apis = async () => {
    const { token } = await tokens.getToken();
    if (cached?.token !== token) {
      cached = { token, api: keepAliveApi(configFor(access.endpoint, access.certificateAuthorityData, token)) };
    }
    return cached.api;
  };
  return {
    core: async () => (await apis()).core,
    policy: async () => (await apis()).policy,
    events: async () => (await apis()).events,
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
  return { core: async () => api.core, policy: async () => api.policy, events: async () => api.events };
}
