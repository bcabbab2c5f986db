import { parseProviderId, type NodeState, type Notice } from './core';
import type { Deps } from './runtime';

/** The interruption workflow's state, passed from step to step (and shown in the console). */
export interface InterruptionState {
  readonly execution: string;
  readonly notice: Notice;
  /** Set by take: the managed group, or undefined when the instance is none of ours. */
  readonly group?: string;
  /** Set by take: false when there is nothing to do (foreign, duplicate, already over). */
  readonly act?: boolean;
  readonly node?: string;
  readonly asg?: string;
  readonly deadline?: number;
  /** The ledger entry as written (the next write is conditional on it). */
  readonly entry?: string;
  readonly lastBeat?: number;
  readonly heartbeats?: number;
  readonly drained?: boolean;
  readonly timeUp?: boolean;
  /** Set by take for a launch lifecycle action: the workflow waits for the node instead of draining. */
  readonly joining?: boolean;
  /** Set by join: the new instance's node is Ready. */
  readonly joined?: boolean;
  /** Set by drain: how long to wait before the next pass (the last evicted pod's grace, or a short poll). */
  readonly waitSeconds?: number;
  /** Set by drain once done: seconds until EC2's reclaim of a detached Spot instance (0: none to wait for). */
  readonly untilReclaim?: number;
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

export const ignore = (state: InterruptionState, why: string, extra: Record<string, unknown> = {}): InterruptionState => ({ ...state, act: false, did: { ...state.did, ...extra, ignored: why } });

/** The node of an instance: by its private DNS name (kops and EKS name nodes so), checked against its providerID. */
export async function nodeOf(deps: Deps, instanceId: string, privateDnsName: string | undefined): Promise<NodeState | undefined> {
  const kube = await deps.kube();
  const byName = privateDnsName ? await kube.findNode(privateDnsName) : undefined;
  if (byName && parseProviderId(byName.providerID)?.instanceId === instanceId) return byName;
  return (await kube.listNodes()).find((n) => parseProviderId(n.providerID)?.instanceId === instanceId);
}
