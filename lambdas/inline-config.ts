import type { Config } from '../lib/config';
import { InvalidConfigError } from '../lib/settings';

/**
 * The configuration as the stack inlines it: validated when the stack was synthesized (the zod
 * schema of lib/config.ts, defaults applied), so the function does not carry zod to validate it
 * again; this shape check only catches a bundle built some other way, naming what is missing.
 */
export function bundledConfig(raw: unknown): Config {
  const c = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<Record<keyof Config, unknown>>;
  const cluster = (c.cluster ?? {}) as Record<string, unknown>;
  const missing = [
    ...(typeof cluster.name === 'string' && typeof cluster.region === 'string' && typeof cluster.access === 'object'
      ? []
      : ['cluster (name, region, access)']),
    ...(typeof c.leaseTable === 'string' ? [] : ['leaseTable']),
    ...(typeof c.historyEventBudget === 'number' ? [] : ['historyEventBudget']),
    ...(Array.isArray(c.groups) && c.groups.length > 0 ? [] : ['groups']),
    ...(Array.isArray(c.groups) ? c.groups : []).flatMap((g: Record<string, unknown>, i) =>
      ['name', 'role', 'desiredReady', 'surplus', 'drainTimeoutSeconds', 'joinTimeoutSeconds', 'cooldownSeconds']
        .filter((k) => g[k] === undefined)
        .map((k) => `groups.${i}.${k}`),
    ),
  ];
  if (missing.length)
    throw new InvalidConfigError(
      `the inlined configuration is not one the stack wrote (synthesize with the CDK app): missing ${missing.join(', ')}`,
    );
  return raw as Config;
}

/**
 * The configuration inlined into the bundle at deploy time (esbuild `define` of
 * `process.env.NODE_MANAGER_CONFIG`), so its size is not bound by Lambda's 4 KB environment limit;
 * the lease table's name, known only once deployed, comes from the environment.
 */
export function inlinedConfig(): Config {
  const inline = process.env.NODE_MANAGER_CONFIG;
  if (!inline)
    throw new InvalidConfigError(
      'no configuration: NODE_MANAGER_CONFIG is inlined into the bundle when the stack is synthesized',
    );
  const raw = JSON.parse(inline) as Record<string, unknown>;
  const table = process.env.NODE_MANAGER_LEASE_TABLE;
  return bundledConfig(table ? { ...raw, leaseTable: table } : raw);
}
