import { randomBytes } from 'node:crypto';
import { V1MicroTime } from '@kubernetes/client-node';
import type { KubeApiProvider } from './client';

/** What node-manager tells of a node it acts on: `kubectl describe node` and `kubectl get events` show it. */
export interface NodeEvent {
  readonly node: string;
  /** CamelCase, as Kubernetes reasons are: Cordoned, Drained, EvictionBlocked, Terminated, Interrupted. */
  readonly reason: string;
  /** What it did, in a sentence (at most 1 KB). */
  readonly note: string;
  readonly type?: 'Normal' | 'Warning';
  /** What node-manager was doing: Refresh, Replenish, Drain (an interruption). */
  readonly action: string;
  /** The execution that acted (the Event's reporting instance). */
  readonly by: string;
}

/** The Events' reporting controller. */
export const REPORTING_CONTROLLER = 'node-manager.io/node-manager';

/**
 * Records an Event on a node (events.k8s.io/v1, in `default`, where Node events live). Best effort:
 * an Event is the story, not the work, so a refusal (RBAC without `events`, throttling) is swallowed
 * and said by the result, never failing the step that acted.
 */
export async function recordNodeEvent(api: KubeApiProvider, e: NodeEvent, now: number): Promise<boolean> {
  try {
    const events = await api.events();
    await events.createNamespacedEvent({
      namespace: 'default',
      body: {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name: `${e.node}.${randomBytes(8).toString('hex')}`, namespace: 'default' },
        // Node events carry the node's name as its uid, as the kubelet's do: kubectl describe node selects them by it.
        regarding: { apiVersion: 'v1', kind: 'Node', name: e.node, uid: e.node },
        reason: e.reason,
        note: e.note.slice(0, 1024),
        type: e.type ?? 'Normal',
        action: e.action,
        reportingController: REPORTING_CONTROLLER,
        reportingInstance: e.by.slice(0, 128),
        // MicroTime (six fractional digits), as the API server parses eventTime.
        eventTime: new V1MicroTime(now),
      },
    });
    return true;
  } catch {
    return false;
  }
}
