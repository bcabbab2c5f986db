/**
 * The workflows node-manager deploys: the one list the CDK app, the simulator's runner and the
 * tools read. A workflow is a folder of `lambdas/` (its handler, its steps, a file per Task) and
 * `statemachines/<name>.asl.json`; adding one here makes every reader of this list handle it.
 */
export const WORKFLOWS = ['refresh', 'replenish', 'interruption'] as const;

export type Workflow = (typeof WORKFLOWS)[number];

/** Where a workflow's parts are, relative to the project root. */
export interface WorkflowFiles {
  /** Its Lambda function's entry (one function serves every step). */
  readonly entry: string;
  /** Its state machine's definition. */
  readonly asl: string;
}

export function filesOf(w: Workflow): WorkflowFiles {
  return { entry: `lambdas/${w}/handler.ts`, asl: `statemachines/${w}.asl.json` };
}

/** The function in front of the interruption workflow: EventBridge rules target it, it starts executions. */
export const GATE_ENTRY = 'lambdas/interruption/gate.ts';

/** The circuit breaker's function: the alarms' state changes reach it, it records them on the lease items. */
export const BREAKER_ENTRY = 'lambdas/operator/breaker.ts';

/** Every function the stack deploys and its entry: the workflows', the gate and the breaker. */
export const FUNCTION_ENTRIES: ReadonlyArray<readonly [name: string, entry: string]> = [
  ...WORKFLOWS.map((w) => [w, filesOf(w).entry] as const),
  ['gate', GATE_ENTRY],
  ['breaker', BREAKER_ENTRY],
];

/**
 * The stack's outputs the operator's tools read (the `node-manager` CLI finds its resources by
 * them), each key prefixed by the construct's id (`NodeManager` in the app: `NodeManagerLeaseTableName`).
 */
export const STACK_OUTPUTS = {
  refresh: 'RefreshStateMachineArn',
  replenish: 'ReplenishStateMachineArn',
  interruption: 'InterruptionStateMachineArn',
  leaseTable: 'LeaseTableName',
  groups: 'Groups',
  cluster: 'ClusterName',
  operatorPolicy: 'OperatorPolicyArn',
} as const;
