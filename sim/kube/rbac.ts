import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';

/** Who a request is, after authentication. */
export interface UserInfo {
  readonly name: string;
  readonly groups: readonly string[];
}

/** What a resource request asks, as the API server's authorizer sees it. */
export interface RequestAttributes {
  readonly verb: string;
  readonly apiGroup: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly namespace?: string;
  readonly name?: string;
}

interface Rule {
  readonly apiGroups?: string[];
  readonly resources?: string[];
  readonly verbs?: string[];
  readonly resourceNames?: string[];
}

interface Manifest {
  readonly kind?: string;
  readonly metadata?: { name?: string; namespace?: string };
  readonly rules?: Rule[];
  readonly roleRef?: { kind?: string; name?: string };
  readonly subjects?: Array<{ kind?: string; name?: string; namespace?: string }>;
}

/** The manifests an operator applies: deploy/rbac.yaml on every cluster, deploy/rbac-kops.yaml on kops. */
export const RBAC_MANIFESTS = ['rbac.yaml', 'rbac-kops.yaml'].map((f) => join(__dirname, '..', '..', 'deploy', f));

/** What an operator applies too when a group's drain policy forces (deploy/rbac-force.yaml). */
export const RBAC_FORCE_MANIFEST = join(__dirname, '..', '..', 'deploy', 'rbac-force.yaml');

/**
 * RBAC as the API server enforces it, from manifests (the project's `deploy/rbac.yaml`):
 * ClusterRoles and ClusterRoleBindings, subjects by User, Group or ServiceAccount. `system:masters`
 * may do anything (the operator's kubectl); everyone authenticated may read discovery.
 */
export class Authorizer {
  private readonly roles = new Map<string, Rule[]>();
  private readonly bindings: Array<{ role: string; subjects: NonNullable<Manifest['subjects']> }> = [];

  constructor(manifests: readonly string[] = RBAC_MANIFESTS) {
    const yaml = manifests.map((f) => readFileSync(f, 'utf8')).join('\n---\n');
    for (const doc of loadAll(yaml) as Manifest[]) {
      if (!doc) continue;
      if (doc.kind === 'ClusterRole' && doc.metadata?.name) this.roles.set(doc.metadata.name, doc.rules ?? []);
      if (doc.kind === 'ClusterRoleBinding' && doc.roleRef?.kind === 'ClusterRole' && doc.roleRef.name)
        this.bindings.push({ role: doc.roleRef.name, subjects: doc.subjects ?? [] });
    }
  }

  private bound(user: UserInfo, subjects: NonNullable<Manifest['subjects']>): boolean {
    return subjects.some(
      (s) =>
        (s.kind === 'User' && s.name === user.name) ||
        (s.kind === 'Group' && !!s.name && user.groups.includes(s.name)) ||
        (s.kind === 'ServiceAccount' && user.name === `system:serviceaccount:${s.namespace}:${s.name}`),
    );
  }

  allows(user: UserInfo, a: RequestAttributes): boolean {
    if (user.groups.includes('system:masters')) return true;
    const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    return this.bindings
      .filter((b) => this.bound(user, b.subjects))
      .flatMap((b) => this.roles.get(b.role) ?? [])
      .some(
        (r) =>
          (r.apiGroups ?? []).some((g) => g === '*' || g === a.apiGroup) &&
          (r.resources ?? []).some((x) => x === '*' || x === resource) &&
          (r.verbs ?? []).some((v) => v === '*' || v === a.verb) &&
          (!r.resourceNames?.length || (!!a.name && r.resourceNames.includes(a.name))),
      );
  }

  /** The 403 message the real server gives. */
  static forbidden(user: UserInfo, a: RequestAttributes): string {
    const what = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    const group = a.apiGroup ? `in API group "${a.apiGroup}"` : 'in API group ""';
    const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
    const named = a.name ? `${what} "${a.name}"` : what;
    return `${named} is forbidden: User "${user.name}" cannot ${a.verb} resource "${what}" ${group} ${scope}`;
  }
}
