import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { Workflow } from '../../lambdas/workflows';
import type { DeploymentGroup } from '../config/deployment';
import type { WorkflowParts } from './workflow';

/**
 * What each workflow's part of the stack is built from: the NodeManager it belongs to (its
 * resources are the NodeManager's children, so their logical ids are those every earlier release
 * deployed), the checked groups, the shared role and dead-letter queue, and how to add an output.
 */
export interface WorkflowContext {
  readonly scope: Construct;
  readonly parts: WorkflowParts;
  readonly groups: readonly DeploymentGroup[];
  readonly clusterName: string;
  /** The cluster's name as resource names may carry it. */
  readonly slug: string;
  readonly names: Readonly<Record<Workflow, string>>;
  readonly role: iam.Role;
  readonly deadLetterQueue: sqs.IQueue;
  readonly tag: { readonly key: string; readonly value: string };
  /** A stack output named as an operator reads it (no hash; the NodeManager's id as prefix). */
  output(name: string, props: { value: string; description?: string }): void;
}

/** A group's name as a construct id may carry it. */
export const idOf = (group: string) => group.replace(/[^A-Za-z0-9]/g, '');
