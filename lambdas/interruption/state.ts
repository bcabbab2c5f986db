import type { GroupConfig } from '../config';
import {
  parseProviderId,
  type HookTiming,
  type InstanceFacts,
  type Measures,
  type NodeState,
  type Notice,
} from '../core';
import type { Deps } from '../runtime';

/** The interruption workflow's state, passed from step to step (and shown in the console). */
export interface InterruptionState {
  readonly execution: string;
  readonly notice: Notice;
  /** Set by take: the managed group, or undefined when the instance is none of ours. */
  readonly group?: string;
  /** Set by validate and take: false when there is nothing to do (refused, foreign, duplicate, already over). */
  readonly act?: boolean;
  /** Set by take once AWS confirmed the notice (or this execution's own claim was found): only then may a hook be completed. */
  readonly verified?: boolean;
  readonly node?: string;
  readonly asg?: string;
  readonly deadline?: number;
  /** The ledger entry as written (the next write is conditional on it). */
  readonly entry?: string;
  /** Set when the entry is an item of its own (this release); absent: an earlier release's entry in the lease item. */
  readonly ledgerItem?: boolean;
  /** The lifecycle hook's timing (DescribeLifecycleHooks, and the group's heartbeat limit). */
  readonly hook?: HookTiming;
  readonly lastBeat?: number;
  readonly heartbeats?: number;
  readonly drained?: boolean;
  readonly timeUp?: boolean;
  /** Set by take for a launch lifecycle action: the workflow waits for the node instead of draining. */
  readonly joining?: boolean;
  /** Set by join: the new instance's node is Ready. */
  readonly joined?: boolean;
  /** Set by take for an instance warming into its ASG's warm pool: its kubelet is not expected to join; CONTINUE at once. */
  readonly warming?: boolean;
  /** Set by take: EC2 already shows the instance shutting down or gone, so there is no aftermath to watch. */
  readonly going?: boolean;
  /** Set by drain: how long to wait before the next pass (the last evicted pod's grace, or a short poll). */
  readonly waitSeconds?: number;
  /** Set by drain once done: seconds until EC2's reclaim of a detached Spot instance (0: none to wait for). */
  readonly untilReclaim?: number;
  /** Set by finish and watch: seconds until the instance's aftermath is checked (0: nothing to watch). */
  readonly watchSeconds?: number;
  readonly watchPolls?: number;
  /** Set by finish and the group check: seconds until the group is looked at again (0: the reclaim is measured). */
  readonly wholeSeconds?: number;
  /** Set by watch: the instance outlived its notice; its node has been given back. */
  readonly survived?: boolean;
  /** Set by drain: the pods still on the node after the last pass (at most 20), and what refused them. */
  readonly left?: readonly string[];
  readonly refusedBy?: readonly string[];
  readonly evicted?: number;
  readonly startedAt?: number;
  /** What take did (the notice, the node, the replacement), repeated in the execution's output. */
  readonly taken?: Record<string, unknown>;
  readonly did?: Record<string, unknown>;
  /** Set by a Catch: the error that sent the workflow to finish early. */
  readonly failure?: { readonly Error: string; readonly Cause: string };
}

/** What a claim returns when its conditional write lost to another write: read and decide again. */
export const CONTENDED = Symbol('contended');

export const ignore = (
  state: InterruptionState,
  why: string,
  extra: Record<string, unknown> = {},
): InterruptionState => ({ ...state, act: false, did: { ...state.did, ...extra, ignored: why } });

/** A notice refused before anything changed: the execution succeeds, says why, and its output marks it refused. */
export function refuse(
  measures: Measures,
  state: InterruptionState,
  why: string,
  extra: Record<string, unknown> = {},
): InterruptionState {
  measures.add('NoticesRefused', 1);
  return ignore(state, why, { ...extra, refused: true });
}

/** The node of an instance: by its private DNS name (kops and EKS name nodes so), checked against its providerID. */
export async function nodeOf(
  deps: Deps,
  instanceId: string,
  privateDnsName: string | undefined,
): Promise<NodeState | undefined> {
  const kube = await deps.kube();
  const byName = privateDnsName ? await kube.findNode(privateDnsName) : undefined;
  if (byName && parseProviderId(byName.providerID)?.instanceId === instanceId) return byName;
  return (await kube.listNodes()).find((n) => parseProviderId(n.providerID)?.instanceId === instanceId);
}

/** What AWS says of the instance, read for the checks a notice of this kind needs. */
export interface Facts extends InstanceFacts {
  readonly privateDnsName?: string;
  readonly launchedAt?: number;
}

/**
 * Reads what AWS can confirm of a notice: the instance's Auto Scaling group and state
 * (DescribeAutoScalingInstances), EC2's view of it, and for a Spot warning its Spot request's
 * status. Reads only; nothing changes before these are checked.
 */
export async function readFacts(deps: Deps, n: Notice): Promise<Facts> {
  const [membership] = await deps.autoscaling.describeInstances([n.instanceId]);
  const [inst] = await deps.ec2.describeInstances([n.instanceId]);
  const spotStatus =
    n.kind === 'spot-interruption' && inst?.lifecycle === 'spot'
      ? await deps.ec2.spotRequestStatus(n.instanceId)
      : undefined;
  return {
    ...(membership ? { asg: { name: membership.asg, lifecycleState: membership.lifecycleState } } : {}),
    ...(inst
      ? {
          ec2: { state: inst.state, lifecycle: inst.lifecycle },
          privateDnsName: inst.privateDnsName,
          launchedAt: inst.launchTime,
        }
      : {}),
    ...(spotStatus !== undefined ? { spotStatus } : {}),
  };
}

/** The configured group an ASG belongs to: by name, or (tag selectors) by the ASG's tags. */
export async function groupOfAsg(
  deps: { readonly config: { readonly groups: readonly GroupConfig[] }; readonly autoscaling: Deps['autoscaling'] },
  asg: string | undefined,
): Promise<GroupConfig | undefined> {
  if (!asg) return undefined;
  const byName = deps.config.groups.find((g) => g.asgNames?.includes(asg));
  if (byName || !deps.config.groups.some((g) => g.asgTags)) return byName;
  const [a] = await deps.autoscaling.describeGroups({ names: [asg] });
  return deps.config.groups.find((g) => g.asgTags && Object.entries(g.asgTags).every(([k, v]) => a?.tags[k] === v));
}
