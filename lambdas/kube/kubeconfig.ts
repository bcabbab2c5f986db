import { NodeManagerError } from '../core';
import { load, YAMLException } from 'js-yaml';

/** Thrown when a kubeconfig cannot be used as given. Its message never carries the kubeconfig's content. */
export class InvalidKubeconfigError extends NodeManagerError {
  readonly name = 'InvalidKubeconfig';
}

/** What node-manager takes from a kubeconfig: one cluster and one user, nothing else. */
export interface KubeAccess {
  readonly server: string;
  readonly caData: string;
  readonly tlsServerName?: string;
  readonly user: { readonly token: string } | { readonly certData: string; readonly keyData: string };
}

/** Fields that would make the client read local files, run programs, skip verification, go through a proxy or act as someone else. */
const REFUSED_CLUSTER: Record<string, string> = {
  'insecure-skip-tls-verify': 'TLS verification cannot be turned off',
  'certificate-authority': 'a file path cannot be read in Lambda; use certificate-authority-data',
  'proxy-url': 'proxies are not supported; reach the API server directly (VPC placement)',
};
const REFUSED_USER: Record<string, string> = {
  exec: 'a Lambda has no CLI to run credential plugins; use a token or a client certificate',
  'auth-provider': 'auth-provider plugins are not supported; use a token or a client certificate',
  'token-file': 'a file path cannot be read in Lambda; put the token itself in "token"',
  tokenFile: 'a file path cannot be read in Lambda; put the token itself in "token"',
  'client-certificate': 'a file path cannot be read in Lambda; use client-certificate-data',
  'client-key': 'a file path cannot be read in Lambda; use client-key-data',
  username: 'basic authentication is not supported; use a token or a client certificate',
  password: 'basic authentication is not supported; use a token or a client certificate',
  as: 'impersonation is not allowed: node-manager acts only as itself',
  'as-uid': 'impersonation is not allowed: node-manager acts only as itself',
  'as-groups': 'impersonation is not allowed: node-manager acts only as itself',
  'as-user-extra': 'impersonation is not allowed: node-manager acts only as itself',
};
const ALLOWED_CLUSTER = new Set([
  'server',
  'certificate-authority-data',
  'tls-server-name',
  'extensions',
  'disable-compression',
]);
const ALLOWED_USER = new Set(['token', 'client-certificate-data', 'client-key-data', 'extensions']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Names from the kubeconfig are quoted in errors only when short and plain, so no secret rides along. */
const safe = (v: unknown) => (typeof v === 'string' && /^[\w.:@-]{1,64}$/.test(v) ? `"${v}"` : '(unnamed)');

function named(list: unknown, name: unknown, what: string): Obj {
  const entry = Array.isArray(list) ? list.find((e) => isObj(e) && e.name === name) : undefined;
  if (!isObj(entry) || !isObj(entry[what]))
    throw new InvalidKubeconfigError(
      `the kubeconfig's current context names ${what} ${safe(name)}, which it does not define`,
    );
  return entry[what] as Obj;
}

/**
 * Reads a kubeconfig the way node-manager trusts it: from an allowlist. The current context's
 * cluster must be an https server with its CA inline; its user a bearer token or a client
 * certificate and key inline. Everything that would read files, run programs, skip verification,
 * use a proxy or impersonate is refused by name, and no error quotes the content.
 */
export function parseKubeconfig(yaml: string): KubeAccess {
  let doc: unknown;
  try {
    doc = load(yaml, { json: true });
  } catch (e) {
    const at = e instanceof YAMLException && e.mark ? ` at line ${e.mark.line + 1}, column ${e.mark.column + 1}` : '';
    throw new InvalidKubeconfigError(`the kubeconfig is not valid YAML${at}`);
  }
  if (!isObj(doc))
    throw new InvalidKubeconfigError(
      'the kubeconfig is not a YAML mapping (apiVersion, kind: Config, clusters, users, contexts, current-context)',
    );
  const current = doc['current-context'];
  if (typeof current !== 'string' || !current)
    throw new InvalidKubeconfigError('the kubeconfig has no current-context');
  const context = named(doc.contexts, current, 'context');
  const cluster = named(doc.clusters, context.cluster, 'cluster');
  const user = named(doc.users, context.user, 'user');

  for (const k of Object.keys(cluster)) {
    if (REFUSED_CLUSTER[k])
      throw new InvalidKubeconfigError(
        `cluster ${safe(context.cluster)}: "${k}" is not allowed: ${REFUSED_CLUSTER[k]}`,
      );
    if (!ALLOWED_CLUSTER.has(k))
      throw new InvalidKubeconfigError(
        `cluster ${safe(context.cluster)}: "${k}" is not supported; allowed: ${[...ALLOWED_CLUSTER].join(', ')}`,
      );
  }
  for (const k of Object.keys(user)) {
    if (REFUSED_USER[k])
      throw new InvalidKubeconfigError(`user ${safe(context.user)}: "${k}" is not allowed: ${REFUSED_USER[k]}`);
    if (!ALLOWED_USER.has(k))
      throw new InvalidKubeconfigError(
        `user ${safe(context.user)}: "${k}" is not supported; allowed: ${[...ALLOWED_USER].join(', ')}`,
      );
  }
  if (cluster['disable-compression'] !== undefined && typeof cluster['disable-compression'] !== 'boolean')
    throw new InvalidKubeconfigError(`cluster ${safe(context.cluster)}: "disable-compression" must be true or false`);
  const server = cluster.server;
  if (typeof server !== 'string' || !/^https:\/\/[^\s/]+(\/[^\s]*)?$/.test(server))
    throw new InvalidKubeconfigError(`cluster ${safe(context.cluster)}: "server" must be an https:// URL`);
  const caData = cluster['certificate-authority-data'];
  if (typeof caData !== 'string' || !/^[A-Za-z0-9+/=\s]+$/.test(caData))
    throw new InvalidKubeconfigError(
      `cluster ${safe(context.cluster)}: "certificate-authority-data" (base64 PEM) is required`,
    );
  const tlsServerName = cluster['tls-server-name'];
  if (tlsServerName !== undefined && typeof tlsServerName !== 'string')
    throw new InvalidKubeconfigError(`cluster ${safe(context.cluster)}: "tls-server-name" must be a string`);

  const token = user.token;
  const cert = user['client-certificate-data'];
  const key = user['client-key-data'];
  if (token !== undefined && (cert !== undefined || key !== undefined))
    throw new InvalidKubeconfigError(
      `user ${safe(context.user)}: give either "token" or "client-certificate-data" with "client-key-data", not both`,
    );
  if (token !== undefined) {
    if (typeof token !== 'string' || !token)
      throw new InvalidKubeconfigError(`user ${safe(context.user)}: "token" must be a non-empty string`);
    return { server, caData, tlsServerName, user: { token } };
  }
  if (typeof cert === 'string' && typeof key === 'string' && cert && key)
    return { server, caData, tlsServerName, user: { certData: cert, keyData: key } };
  throw new InvalidKubeconfigError(
    `user ${safe(context.user)}: needs "token", or "client-certificate-data" with "client-key-data"`,
  );
}
