/**
 * The summaries people read: one paragraph each, to the stack's topic, when a refresh ends
 * (succeeded or not), when replenish acts, and when an interruption's node is drained.
 */

/** The Step Functions console's page of an execution. */
export function consoleLink(executionArn: string): string {
  const region = executionArn.split(':')[3] ?? 'us-east-1';
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}

const minutes = (seconds: number) => (seconds < 90 ? `${Math.round(seconds)} s` : `${Math.round(seconds / 60)} min`);
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export interface RefreshSummary {
  readonly cluster: string;
  readonly group: string;
  readonly execution: string;
  readonly replaced: number;
  /** Nodes the refresh set out to replace (replaced and not). */
  readonly planned: number;
  readonly seconds: number;
  readonly desiredReady: number;
  readonly minReady?: number;
  readonly refusals: number;
  readonly budgets: readonly string[];
  readonly notReplaced: readonly string[];
  readonly podsLost: number;
  /** Set when the refresh failed or was stopped: the error's name. */
  readonly failure?: string;
  /** Ratio of the duration to the learned bound, when the refresh replaced nodes. */
  readonly boundRatio?: number;
}

export function refreshSummary(s: RefreshSummary): { subject: string; message: string } {
  const how = s.failure ? `ended with ${s.failure}` : 'done';
  const subject = `node-manager ${s.cluster}: refresh of ${s.group} ${how}, ${s.replaced} of ${s.planned} replaced`;
  const ready =
    s.minReady === undefined
      ? ''
      : s.minReady >= s.desiredReady
        ? `, never below ${s.desiredReady} Ready`
        : `, down to ${s.minReady} Ready of ${s.desiredReady} desired`;
  const parts = [
    `Refresh of group ${s.group} (cluster ${s.cluster}) ${how}: ${s.replaced} of ${plural(s.planned, 'node')} replaced ` +
      `in ${minutes(s.seconds)}${ready}` +
      (s.boundRatio !== undefined ? ` (${s.boundRatio.toFixed(2)}x its learned bound)` : '') +
      '.',
    s.refusals
      ? `${plural(s.refusals, 'eviction')} refused` +
        (s.budgets.length ? ` by budget ${s.budgets.join(', ')}` : '') +
        ' (waited for, not forced).'
      : 'No eviction refused.',
    s.notReplaced.length ? `Not replaced: ${s.notReplaced.join('; ')}.` : '',
    s.podsLost ? `${plural(s.podsLost, 'pod')} lost (no controller or emptyDir data): see the execution's output.` : '',
    s.failure ? 'Its cordons were lifted and the surplus given back.' : 'Surplus given back.',
    `Execution: ${consoleLink(s.execution)}`,
  ];
  return { subject, message: parts.filter(Boolean).join(' ') };
}

export interface InterruptionSummary {
  readonly cluster: string;
  readonly group: string;
  readonly execution: string;
  readonly notice: string;
  readonly instanceId: string;
  readonly node?: string;
  readonly evicted: number;
  readonly podsLeft: readonly string[] | string;
  readonly seconds?: number;
  readonly replacement?: string;
}

export function interruptionSummary(s: InterruptionSummary): { subject: string; message: string } {
  const left = Array.isArray(s.podsLeft) ? s.podsLeft : [];
  const subject = `node-manager ${s.cluster}: ${s.notice} of ${s.instanceId} in ${s.group}, ${plural(s.evicted, 'pod')} evicted`;
  const parts = [
    `${s.notice} for ${s.instanceId}${s.node ? ` (node ${s.node})` : ''} in group ${s.group} (cluster ${s.cluster}):`,
    `${plural(s.evicted, 'pod')} evicted` + (s.seconds !== undefined ? ` in ${minutes(s.seconds)}` : '') + ',',
    left.length
      ? `${plural(left.length, 'pod')} still on it when it went: ${left.slice(0, 10).join(', ')}${left.length > 10 ? ', …' : ''}.`
      : 'none left on it.',
    s.replacement ? `Replacement: ${s.replacement}.` : '',
    `Execution: ${consoleLink(s.execution)}`,
  ];
  return { subject, message: parts.filter(Boolean).join(' ') };
}

export interface ReplenishSummary {
  readonly cluster: string;
  readonly group: string;
  readonly execution: string;
  readonly ready: number;
  readonly desiredReady: number;
  readonly raised: readonly string[];
  readonly reaped: number;
  readonly repaired?: string;
  readonly givingBack?: string;
}

/** Undefined when the pass changed nothing worth a person's attention. */
export function replenishSummary(s: ReplenishSummary): { subject: string; message: string } | undefined {
  const acts = [
    s.raised.length ? `raised ${s.raised.join(', ')} (substitute capacity, given back once home recovers)` : '',
    s.reaped ? `reaped ${plural(s.reaped, 'instance')} whose node never joined` : '',
    s.repaired ? `repaired ${s.repaired}` : '',
    s.givingBack ? `giving back ${s.givingBack}` : '',
  ].filter(Boolean);
  if (!acts.length) return undefined;
  const subject = `node-manager ${s.cluster}: replenish of ${s.group}, ${s.ready} Ready of ${s.desiredReady}`;
  return {
    subject,
    message:
      `Group ${s.group} (cluster ${s.cluster}) had ${s.ready} Ready of ${s.desiredReady} desired; replenish ` +
      `${acts.join('; ')}. Execution: ${consoleLink(s.execution)}`,
  };
}
