import {
  AutoScalingClient,
  AutoScalingServiceException,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeLifecycleHooksCommand,
  DescribeScalingActivitiesCommand,
  DetachInstancesCommand,
  InvalidNextToken,
  RecordLifecycleActionHeartbeatCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
  type Activity,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  DynamoDBServiceException,
  GetItemCommand,
  PutItemCommand,
  ResourceNotFoundException as DynamoNotFound,
  ThrottlingException as DynamoThrottling,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeInstancesCommand,
  DescribeSpotInstanceRequestsCommand,
  EC2Client,
  EC2ServiceException,
  TerminateInstancesCommand,
  type Instance,
} from '@aws-sdk/client-ec2';
import {
  DescribeClusterCommand,
  EKSClient,
  ResourceNotFoundException as EksNotFound,
  EKSServiceException,
} from '@aws-sdk/client-eks';
import {
  GetSecretValueCommand,
  ResourceNotFoundException as SecretNotFound,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  InvalidName,
  ListExecutionsCommand,
  SFNClient,
  SFNServiceException,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  type ExecutionStatus,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { createSandbox } from 'sinon';
import {
  applyUpdate,
  ConditionFailed,
  evaluateCondition,
  ExpressionError,
  ITEM_TOO_LARGE,
  itemSize,
  MAX_ITEM_BYTES,
  project,
  UPDATE_TOO_LARGE,
  validateExpressions,
  type Item,
} from './tables';
import type { Simulator } from '../simulator';
import type { SimActivity, SimAsg, SimInstance } from './region';

const meta = (status: number) => ({ httpStatusCode: status, requestId: 'sim', attempts: 1, totalRetryDelay: 0 });

function asgError(name: string, message: string, status = 400): AutoScalingServiceException {
  return new AutoScalingServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    message,
    $metadata: meta(status),
  });
}
function ec2Error(name: string, message: string, status = 400): EC2ServiceException {
  return new EC2ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    message,
    $metadata: meta(status),
  });
}

/** Error each service answers with when throttled, or when a callFailure fault fires. */
const SERVICE_ERRORS: Record<string, { throttle: () => Error; failure: () => Error }> = {
  autoscaling: {
    throttle: () => asgError('Throttling', 'Rate exceeded'),
    failure: () => asgError('InternalFailure', 'An internal error occurred.', 500),
  },
  ec2: {
    throttle: () => ec2Error('RequestLimitExceeded', 'Request limit exceeded.', 503),
    failure: () => ec2Error('InternalError', 'An internal error has occurred', 500),
  },
  dynamodb: {
    throttle: () =>
      new DynamoThrottling({ message: 'Rate of requests exceeds the allowed throughput.', $metadata: meta(400) }),
    failure: () =>
      new DynamoDBServiceException({
        name: 'InternalServerError',
        $fault: 'server',
        message: 'Internal server error',
        $metadata: meta(500),
      }),
  },
  sfn: {
    throttle: () =>
      new SFNServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        message: 'Rate exceeded',
        $metadata: meta(400),
      }),
    failure: () =>
      new SFNServiceException({
        name: 'InternalFailure',
        $fault: 'server',
        message: 'Internal failure',
        $metadata: meta(500),
      }),
  },
  eks: {
    throttle: () =>
      new EKSServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        message: 'Rate exceeded',
        $metadata: meta(429),
      }),
    failure: () =>
      new EKSServiceException({
        name: 'ServerException',
        $fault: 'server',
        message: 'Server exception',
        $metadata: meta(500),
      }),
  },
  secretsmanager: {
    throttle: () =>
      new SecretsManagerServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        message: 'Rate exceeded',
        $metadata: meta(400),
      }),
    failure: () =>
      new SecretsManagerServiceException({
        name: 'InternalServiceError',
        $fault: 'server',
        message: 'Internal service error',
        $metadata: meta(500),
      }),
  },
};

/** An opaque page token bound to the query it continues, as AWS's are. */
function pageToken(query: unknown, offset: number): string {
  return Buffer.from(JSON.stringify({ q: JSON.stringify(query), o: offset })).toString('base64');
}
function readToken(token: string | undefined, query: unknown, invalid: () => Error): number {
  if (!token) return 0;
  try {
    const t = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { q: string; o: number };
    if (t.q === JSON.stringify(query) && Number.isInteger(t.o)) return t.o;
  } catch {
    // fall through: malformed
  }
  throw invalid();
}

function page<T>(
  items: T[],
  max: number,
  token: string | undefined,
  query: unknown,
  invalid: () => Error,
): { items: T[]; next?: string } {
  const offset = readToken(token, query, invalid);
  const slice = items.slice(offset, offset + max);
  return { items: slice, next: offset + max < items.length ? pageToken(query, offset + max) : undefined };
}

function toActivity(a: SimActivity): Activity {
  return { ...a, StartTime: new Date(a.StartTime), EndTime: a.EndTime !== undefined ? new Date(a.EndTime) : undefined };
}

/**
 * The AWS APIs node-manager calls, answered from the simulator's state with AWS's documented
 * semantics: limits, validation errors and their wording, pagination tokens bound to their query,
 * and each service's own throttling error.
 */
export class SimAws {
  constructor(private readonly sim: Simulator) {}

  private mocks: Array<{ resetHistory(): void }> = [];
  private callsSinceReset = 0;

  /**
   * Counts the call and applies armed throttling / failure faults before the operation runs. A
   * mutating call (`target` given) goes to the audit with its outcome. The mocks' own call history
   * is dropped as it goes: nothing reads it, and a long run must not keep every request.
   */
  private async run<T>(service: string, operation: string, fn: () => T, target?: string): Promise<T> {
    if (++this.callsSinceReset >= 256) {
      this.callsSinceReset = 0;
      // Not from inside a mocked call: sinon refuses to reset a stub while it runs.
      setImmediate(() => this.mocks.forEach((m) => m.resetHistory()));
    }
    const inv = this.sim.context.current();
    this.sim.count('aws', operation, inv);
    try {
      this.sim.checkFault(operation, SERVICE_ERRORS[service]);
      const out = fn();
      if (target !== undefined) this.sim.recordMutation('aws', operation, target, inv, 'ok');
      return out;
    } catch (e) {
      if (target !== undefined)
        this.sim.recordMutation('aws', operation, target, inv, e instanceof Error ? e.name : 'error');
      throw e;
    }
  }

  private asg(name: string | undefined): SimAsg {
    const asg = name ? this.sim.region.asgs.get(name) : undefined;
    if (!asg) throw asgError('ValidationError', `AutoScalingGroup name not found - AutoScalingGroup ${name} not found`);
    return asg;
  }

  private describeAsg(asg: SimAsg): AutoScalingGroup {
    const region = this.sim.region;
    return {
      AutoScalingGroupName: asg.name,
      AutoScalingGroupARN: `arn:aws:autoscaling:${region.name}:123456789012:autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/${asg.name}`,
      MinSize: asg.min,
      MaxSize: asg.max,
      DesiredCapacity: asg.desired,
      DefaultCooldown: 300,
      AvailabilityZones: [...asg.zones],
      HealthCheckType: 'EC2',
      HealthCheckGracePeriod: 0,
      CreatedTime: new Date(asg.createdTime),
      Instances: asg.instanceIds.map((id) => {
        const i = region.instances.get(id)!;
        return {
          InstanceId: i.id,
          InstanceType: i.instanceType,
          AvailabilityZone: i.zone,
          LifecycleState: (i.asgLifecycle ?? 'InService') as 'InService',
          HealthStatus: 'Healthy',
          ProtectedFromScaleIn: false,
        };
      }),
      Tags: Object.entries(asg.tags).map(([Key, Value]) => ({
        Key,
        Value,
        ResourceId: asg.name,
        ResourceType: 'auto-scaling-group',
        PropagateAtLaunch: true,
      })),
      TerminationPolicies: ['Default'],
      CapacityRebalance: asg.capacityRebalance,
    };
  }

  install(): () => void {
    // A sandbox of our own: sinon's default one keeps every stub (and the calls that threw) for the
    // life of the process, so every simulator would stay in memory after it stopped.
    const sandbox = createSandbox();
    const asgMock = mockClient(AutoScalingClient, { sandbox });
    asgMock.on(DescribeAutoScalingGroupsCommand).callsFake((input) =>
      this.run('autoscaling', 'DescribeAutoScalingGroups', () => {
        const names: string[] | undefined = input.AutoScalingGroupNames;
        const max = input.MaxRecords ?? 50;
        if (max < 1 || max > 100)
          throw asgError(
            'ValidationError',
            `1 validation error detected: Value '${max}' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to 100`,
          );
        if (names && names.length > 100)
          throw asgError('ValidationError', 'The number of AutoScalingGroupNames cannot exceed 100.');
        const filters: Array<{ Name?: string; Values?: string[] }> = input.Filters ?? [];
        const groups = [...this.sim.region.asgs.values()]
          .filter((g) => !names || names.includes(g.name))
          .filter((g) =>
            filters.every((f) => {
              const values = f.Values ?? [];
              if (f.Name === 'tag-key') return values.some((k) => k in g.tags);
              if (f.Name === 'tag-value') return values.some((v) => Object.values(g.tags).includes(v));
              if (f.Name?.startsWith('tag:')) {
                const key = f.Name.slice(4);
                return key in g.tags && values.includes(g.tags[key]);
              }
              throw asgError('ValidationError', `Filter name ${f.Name} is invalid.`);
            }),
          )
          .sort((a, b) => (a.name < b.name ? -1 : 1));
        const p = page(
          groups,
          max,
          input.NextToken,
          { names, filters },
          () => new InvalidNextToken({ message: 'The token is invalid.', $metadata: meta(400) }),
        );
        return { AutoScalingGroups: p.items.map((g) => this.describeAsg(g)), NextToken: p.next };
      }),
    );
    asgMock.on(DescribeScalingActivitiesCommand).callsFake((input) =>
      this.run('autoscaling', 'DescribeScalingActivities', () => {
        const max = input.MaxRecords ?? 100;
        if (max < 1 || max > 100)
          throw asgError(
            'ValidationError',
            `1 validation error detected: Value '${max}' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to 100`,
          );
        const groups = input.AutoScalingGroupName
          ? [this.sim.region.asgs.get(input.AutoScalingGroupName)].filter((g): g is SimAsg => !!g)
          : [...this.sim.region.asgs.values()];
        const acts = groups
          .flatMap((g) => g.activities)
          .filter((a) => !input.ActivityIds || input.ActivityIds.includes(a.ActivityId))
          .sort((a, b) => b.StartTime - a.StartTime);
        const p = page(
          acts,
          max,
          input.NextToken,
          { g: input.AutoScalingGroupName, ids: input.ActivityIds },
          () => new InvalidNextToken({ message: 'The token is invalid.', $metadata: meta(400) }),
        );
        return { Activities: p.items.map(toActivity), NextToken: p.next };
      }),
    );
    asgMock.on(SetDesiredCapacityCommand).callsFake((input) =>
      this.run(
        'autoscaling',
        'SetDesiredCapacity',
        () => {
          const asg = this.asg(input.AutoScalingGroupName);
          const d = input.DesiredCapacity ?? 0;
          if (d > asg.max)
            throw asgError(
              'ValidationError',
              `New SetDesiredCapacity value ${d} is above max value ${asg.max} for the AutoScalingGroup.`,
            );
          if (d < asg.min)
            throw asgError(
              'ValidationError',
              `New SetDesiredCapacity value ${d} is below min value ${asg.min} for the AutoScalingGroup.`,
            );
          this.sim.noteAsgChange(asg.name, 'desired', asg.desired, d);
          asg.desired = d;
          this.sim.region.reconcile(asg);
          return {};
        },
        `asg/${input.AutoScalingGroupName} desired=${input.DesiredCapacity}`,
      ),
    );
    asgMock.on(UpdateAutoScalingGroupCommand).callsFake((input) =>
      this.run(
        'autoscaling',
        'UpdateAutoScalingGroup',
        () => {
          const asg = this.asg(input.AutoScalingGroupName);
          const min = input.MinSize ?? asg.min;
          const max = input.MaxSize ?? asg.max;
          if (min > max)
            throw asgError('ValidationError', `Max bound, ${max}, must be greater than or equal to min bound, ${min}`);
          let desired = input.DesiredCapacity ?? asg.desired;
          if (input.DesiredCapacity !== undefined && (desired < min || desired > max)) {
            throw asgError(
              'ValidationError',
              `Desired capacity:${desired} must be between the specified min size:${min} and max size:${max}`,
            );
          }
          // Without an explicit desired, AWS clamps the current one into the new bounds.
          desired = Math.min(Math.max(desired, min), max);
          if (min !== asg.min) this.sim.noteAsgChange(asg.name, 'min', asg.min, min);
          if (max !== asg.max) this.sim.noteAsgChange(asg.name, 'max', asg.max, max);
          if (desired !== asg.desired) this.sim.noteAsgChange(asg.name, 'desired', asg.desired, desired);
          Object.assign(asg, { min, max, desired });
          this.sim.region.reconcile(asg);
          return {};
        },
        `asg/${input.AutoScalingGroupName} min=${input.MinSize ?? '-'} max=${input.MaxSize ?? '-'} desired=${input.DesiredCapacity ?? '-'}`,
      ),
    );
    asgMock.on(TerminateInstanceInAutoScalingGroupCommand).callsFake((input) =>
      this.run(
        'autoscaling',
        'TerminateInstanceInAutoScalingGroup',
        () => {
          const inst = input.InstanceId ? this.sim.region.instances.get(input.InstanceId) : undefined;
          const asg = inst?.asg ? this.sim.region.asgs.get(inst.asg) : undefined;
          if (!inst || !asg || inst.state === 'terminated') {
            throw asgError(
              'ValidationError',
              `Instance Id not found - No managed instance found for instance ID: ${input.InstanceId}`,
            );
          }
          if (inst.asgLifecycle?.startsWith('Terminating') || inst.asgLifecycle === 'Detaching') {
            // AWS documents no answer for an instance already on its way out. The simulator refuses,
            // so that node-manager, which must not depend on any answer, is caught if it ever asks.
            throw asgError(
              'ValidationError',
              `The instance ${inst.id} is ${inst.asgLifecycle} (simulator: AWS documents no answer to this request; callers must skip instances their own read shows leaving).`,
            );
          }
          const decrement = input.ShouldDecrementDesiredCapacity === true;
          if (decrement && asg.desired <= asg.min) {
            throw asgError(
              'ValidationError',
              `Currently, desiredSize equals minSize (${asg.min}). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.`,
            );
          }
          if (decrement) {
            this.sim.noteAsgChange(asg.name, 'terminateWithDecrement', asg.desired, asg.desired - 1);
            asg.desired -= 1;
          }
          const cause = decrement
            ? `instance ${inst.id} was taken out of service in response to a user request, shrinking the capacity from ${asg.desired + 1} to ${asg.desired}.`
            : `instance ${inst.id} was taken out of service in response to a user request.`;
          const act = this.sim.region.terminate(inst, cause);
          this.sim.region.reconcile(asg);
          return { Activity: act ? toActivity(act) : undefined };
        },
        `instance/${input.InstanceId} decrement=${input.ShouldDecrementDesiredCapacity}`,
      ),
    );
    asgMock.on(DetachInstancesCommand).callsFake((input) =>
      this.run(
        'autoscaling',
        'DetachInstances',
        () => {
          const asg = this.asg(input.AutoScalingGroupName);
          const ids: string[] = input.InstanceIds ?? [];
          if (ids.length > 20)
            throw asgError('ValidationError', 'The number of instance ids that may be passed in is limited to 20.');
          const decrement = input.ShouldDecrementDesiredCapacity;
          if (decrement === undefined) throw asgError('ValidationError', 'ShouldDecrementDesiredCapacity is required.');
          const insts: SimInstance[] = ids.map((id) => {
            const inst = this.sim.region.instances.get(id);
            if (!inst || inst.asg !== asg.name)
              throw asgError('ValidationError', `The instance ${id} is not part of Auto Scaling group ${asg.name}.`);
            if (inst.asgLifecycle !== 'InService' && inst.asgLifecycle !== 'Standby')
              throw asgError('ValidationError', `The instance ${id} is not in InService or Standby.`);
            return inst;
          });
          if (decrement && asg.desired - insts.length < asg.min) {
            throw asgError(
              'ValidationError',
              `Detaching ${insts.length} instance(s) with ShouldDecrementDesiredCapacity would take the desired capacity of ${asg.name} to ${asg.desired - insts.length}, below its min size ${asg.min}; please update the AutoScalingGroup sizes appropriately.`,
            );
          }
          if (decrement) {
            this.sim.noteAsgChange(asg.name, 'desired', asg.desired, asg.desired - insts.length);
            asg.desired -= insts.length;
          }
          const activities = insts.map((inst) => this.sim.region.detach(asg, inst, decrement));
          this.sim.region.reconcile(asg);
          return { Activities: activities.map(toActivity) };
        },
        `asg/${input.AutoScalingGroupName} instances=${(input.InstanceIds ?? []).join(',')} decrement=${input.ShouldDecrementDesiredCapacity}`,
      ),
    );

    asgMock.on(DescribeAutoScalingInstancesCommand).callsFake((input) =>
      this.run('autoscaling', 'DescribeAutoScalingInstances', () => {
        const ids: string[] | undefined = input.InstanceIds;
        const max = input.MaxRecords ?? 50;
        if (max < 1 || max > 50)
          throw asgError(
            'ValidationError',
            `1 validation error detected: Value '${max}' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to 50`,
          );
        if (ids && ids.length > 50)
          throw asgError('ValidationError', 'The number of instance ids that may be passed in is limited to 50.');
        const region = this.sim.region;
        const members = [...region.asgs.values()]
          .flatMap((a) => a.instanceIds.map((id) => region.instances.get(id)!))
          .filter((i) => i.asg && i.asgLifecycle !== undefined && (!ids || ids.includes(i.id)))
          .sort((a, b) => (a.id < b.id ? -1 : 1));
        const p = page(
          members,
          max,
          input.NextToken,
          { ids },
          () => new InvalidNextToken({ message: 'The token is invalid.', $metadata: meta(400) }),
        );
        return {
          AutoScalingInstances: p.items.map((i) => ({
            InstanceId: i.id,
            InstanceType: i.instanceType,
            AutoScalingGroupName: i.asg!,
            AvailabilityZone: i.zone,
            LifecycleState: i.asgLifecycle!,
            // This call spells health in capitals, unlike DescribeAutoScalingGroups.
            HealthStatus: i.unhealthy ? 'UNHEALTHY' : 'HEALTHY',
            ProtectedFromScaleIn: false,
          })),
          NextToken: p.next,
        };
      }),
    );
    asgMock.on(DescribeLifecycleHooksCommand).callsFake((input) =>
      this.run('autoscaling', 'DescribeLifecycleHooks', () => {
        const asg = this.asg(input.AutoScalingGroupName);
        const names: string[] | undefined = input.LifecycleHookNames;
        if (names && names.length > 50)
          throw asgError(
            'ValidationError',
            'The number of lifecycle hook names that may be passed in is limited to 50.',
          );
        return {
          LifecycleHooks: asg.hooks
            .filter((h) => !names || names.includes(h.name))
            .map((h) => ({
              LifecycleHookName: h.name,
              AutoScalingGroupName: asg.name,
              LifecycleTransition: h.transition,
              HeartbeatTimeout: h.heartbeatTimeout,
              GlobalTimeout: Math.min(100 * h.heartbeatTimeout, 172_800),
              DefaultResult: h.defaultResult,
            })),
        };
      }),
    );

    // Lifecycle actions: the instance (or the token) must be waiting on that hook of that group.
    const waiting = (input: {
      AutoScalingGroupName?: string;
      LifecycleHookName?: string;
      InstanceId?: string;
      LifecycleActionToken?: string;
    }) => {
      const asg = this.asg(input.AutoScalingGroupName);
      if (!input.LifecycleHookName)
        throw asgError(
          'ValidationError',
          "1 validation error detected: Value null at 'lifecycleHookName' failed to satisfy constraint: Member must not be null",
        );
      if (!asg.hooks.some((h) => h.name === input.LifecycleHookName))
        throw asgError(
          'ValidationError',
          `No Lifecycle Hook found with name ${input.LifecycleHookName} for group ${asg.name}`,
        );
      if (!input.InstanceId && !input.LifecycleActionToken)
        throw asgError('ValidationError', 'Either InstanceId or LifecycleActionToken must be specified.');
      const inst = input.InstanceId
        ? this.sim.region.instances.get(input.InstanceId)
        : [...this.sim.region.instances.values()].find((i) => i.lifecycleAction?.token === input.LifecycleActionToken);
      const action = inst?.lifecycleAction;
      if (
        !inst ||
        !action ||
        action.asg !== asg.name ||
        action.hook.name !== input.LifecycleHookName ||
        (input.LifecycleActionToken && action.token !== input.LifecycleActionToken)
      ) {
        throw asgError(
          'ValidationError',
          input.InstanceId
            ? `No active Lifecycle Action found with instance ID ${input.InstanceId}`
            : `No active Lifecycle Action found with token ${input.LifecycleActionToken}`,
        );
      }
      return { inst, action };
    };
    asgMock.on(CompleteLifecycleActionCommand).callsFake((input) =>
      this.run(
        'autoscaling',
        'CompleteLifecycleAction',
        () => {
          const result = input.LifecycleActionResult;
          if (result !== 'CONTINUE' && result !== 'ABANDON')
            throw asgError(
              'ValidationError',
              `Invalid lifecycle action result: ${result}. Valid values are CONTINUE and ABANDON.`,
            );
          const { inst } = waiting(input);
          this.sim.region.endLifecycleAction(inst, result);
          return {};
        },
        `instance/${input.InstanceId ?? input.LifecycleActionToken} ${input.LifecycleHookName} ${input.LifecycleActionResult}`,
      ),
    );
    asgMock.on(RecordLifecycleActionHeartbeatCommand).callsFake((input) =>
      this.run(
        'autoscaling',
        'RecordLifecycleActionHeartbeat',
        () => {
          const { action } = waiting(input);
          // A heartbeat restarts the heartbeat timeout; the global timeout stands.
          action.expiresAt = this.sim.now() + action.hook.heartbeatTimeout * 1000;
          action.heartbeats += 1;
          return {};
        },
        `instance/${input.InstanceId ?? input.LifecycleActionToken} ${input.LifecycleHookName}`,
      ),
    );

    const ec2Mock = mockClient(EC2Client, { sandbox });
    ec2Mock.on(DescribeInstancesCommand).callsFake((input) =>
      this.run('ec2', 'DescribeInstances', () => {
        const ids: string[] | undefined = input.InstanceIds;
        if (ids && input.MaxResults !== undefined) {
          throw ec2Error(
            'InvalidParameterCombination',
            'The parameter instancesSet cannot be used with the parameter maxResults',
          );
        }
        const max = input.MaxResults ?? 1000;
        if (max < 5 || max > 1000)
          throw ec2Error(
            'InvalidParameterValue',
            `Value ( ${max} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`,
          );
        const visible = this.sim.region.visibleInstances();
        if (ids) {
          const missing = ids.filter((id) => !visible.some((i) => i.id === id));
          if (missing.length > 0)
            throw ec2Error('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
        }
        const filters: Array<{ Name?: string; Values?: string[] }> = input.Filters ?? [];
        // The limit is on the call, over all its filters together.
        if (filters.reduce((n, f) => n + (f.Values?.length ?? 0), 0) > 200)
          throw ec2Error(
            'FilterLimitExceeded',
            'The maximum number of filter values specified on a single call is 200',
          );
        if (filters.some((f) => (f.Values ?? []).some((v) => v.length > 255)))
          throw ec2Error('FilterLimitExceeded', 'The maximum length for a filter value is 255 characters');
        const match = (i: SimInstance) =>
          filters.every((f) => {
            const values = f.Values ?? [];
            if (f.Name === 'instance-id') return values.includes(i.id);
            if (f.Name === 'instance-state-name') return values.includes(i.state);
            if (f.Name === 'availability-zone') return values.includes(i.zone);
            if (f.Name?.startsWith('tag:')) return values.includes(i.tags[f.Name.slice(4)]);
            throw ec2Error('InvalidParameterValue', `The filter '${f.Name}' is invalid`);
          });
        const found = visible
          .filter((i) => (!ids || ids.includes(i.id)) && match(i))
          .sort((a, b) => (a.id < b.id ? -1 : 1));
        const p = ids
          ? { items: found, next: undefined }
          : page(found, max, input.NextToken, { filters }, () =>
              ec2Error('InvalidParameterValue', 'The specified NextToken is not valid.'),
            );
        return {
          Reservations: p.items.map((i) => ({
            ReservationId: `r-0${i.id.slice(3)}`,
            OwnerId: '123456789012',
            Instances: [this.describeInstance(i)],
          })),
          NextToken: p.next,
        };
      }),
    );
    ec2Mock.on(TerminateInstancesCommand).callsFake((input) =>
      this.run(
        'ec2',
        'TerminateInstances',
        () => {
          const ids: string[] = input.InstanceIds ?? [];
          const insts = ids.map((id) => {
            const inst = this.sim.region.instances.get(id);
            if (!inst) throw ec2Error('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
            return inst;
          });
          return {
            TerminatingInstances: insts.map((inst) => {
              const previous = inst.state;
              this.sim.region.terminateFromEc2(
                inst,
                `an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped.`,
              );
              return { InstanceId: inst.id, PreviousState: { Name: previous }, CurrentState: { Name: inst.state } };
            }),
          };
        },
        `instances=${(input.InstanceIds ?? []).join(',')}`,
      ),
    );

    ec2Mock.on(DescribeSpotInstanceRequestsCommand).callsFake((input) =>
      this.run('ec2', 'DescribeSpotInstanceRequests', () => {
        const filters: Array<{ Name?: string; Values?: string[] }> = input.Filters ?? [];
        const ids: string[] | undefined = input.SpotInstanceRequestIds;
        const requests = [...this.sim.region.spotRequests.values()];
        if (ids) {
          const missing = ids.filter((id) => !requests.some((r) => r.id === id));
          if (missing.length)
            throw ec2Error(
              'InvalidSpotInstanceRequestID.NotFound',
              `The spot instance request ID '${missing[0]}' does not exist`,
            );
        }
        const match = (r: (typeof requests)[number]) =>
          filters.every((f) => {
            const values = f.Values ?? [];
            if (f.Name === 'instance-id') return r.instanceId !== undefined && values.includes(r.instanceId);
            if (f.Name === 'state') return values.includes(r.state);
            if (f.Name === 'status-code') return values.includes(r.code);
            if (f.Name === 'spot-instance-request-id') return values.includes(r.id);
            throw ec2Error('InvalidParameterValue', `The filter '${f.Name}' is invalid`);
          });
        return {
          SpotInstanceRequests: requests
            .filter((r) => (!ids || ids.includes(r.id)) && match(r))
            .map((r) => ({
              SpotInstanceRequestId: r.id,
              InstanceId: r.instanceId,
              State: r.state,
              Status: { Code: r.code, Message: r.message, UpdateTime: new Date(r.updatedAt) },
              Type: 'one-time' as const,
              InstanceInterruptionBehavior: 'terminate' as const,
              CreateTime: new Date(r.createdAt),
              LaunchedAvailabilityZone: r.zone,
              ProductDescription: 'Linux/UNIX' as const,
            })),
        };
      }),
    );

    const ddbMock = mockClient(DynamoDBClient, { sandbox });
    const table = (name: string | undefined) => {
      const t = name ? this.sim.tables.table(name) : undefined;
      if (!t) throw new DynamoNotFound({ message: 'Requested resource not found', $metadata: meta(400) });
      return t;
    };
    const validation = (e: unknown) =>
      e instanceof ExpressionError
        ? new DynamoDBServiceException({
            name: 'ValidationException',
            $fault: 'client',
            message: e.message,
            $metadata: meta(400),
          })
        : e;
    const conditional = (
      input: {
        ConditionExpression?: string;
        ExpressionAttributeNames?: Record<string, string>;
        ExpressionAttributeValues?: Record<string, never>;
        ReturnValuesOnConditionCheckFailure?: string;
      },
      item: Item | undefined,
    ) => {
      if (!input.ConditionExpression) return;
      const ctx = { names: input.ExpressionAttributeNames ?? {}, values: input.ExpressionAttributeValues ?? {} };
      if (!evaluateCondition(input.ConditionExpression, item, ctx))
        throw new ConditionFailed(input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' ? item : undefined);
    };
    const ddb = <T>(operation: string, fn: () => T, target?: string) =>
      this.run(
        'dynamodb',
        operation,
        () => {
          this.sim.tables.sweep(this.sim.now());
          try {
            return fn();
          } catch (e) {
            if (e instanceof ConditionFailed) {
              throw new ConditionalCheckFailedException({
                message: 'The conditional request failed',
                $metadata: meta(400),
                ...(e.item ? { Item: e.item } : {}),
              });
            }
            throw validation(e);
          }
        },
        target,
      );
    ddbMock.on(GetItemCommand).callsFake((input) =>
      ddb('GetItem', () => {
        validateExpressions(input);
        const t = table(input.TableName);
        const item = t.items.get(this.sim.tables.keyOf(input.TableName!, input.Key ?? {}));
        return item
          ? { Item: structuredClone(project(item, input.ProjectionExpression, input.ExpressionAttributeNames)) }
          : {};
      }),
    );
    ddbMock.on(PutItemCommand).callsFake((input) =>
      ddb(
        'PutItem',
        () => {
          validateExpressions(input, '1 validation error detected: ');
          const t = table(input.TableName);
          const key = this.sim.tables.keyOf(input.TableName!, { [t.key]: input.Item?.[t.key] ?? {} });
          const old = t.items.get(key);
          conditional(input, old);
          if (itemSize(input.Item ?? {}) > MAX_ITEM_BYTES)
            throw new DynamoDBServiceException({
              name: 'ValidationException',
              $fault: 'client',
              message: ITEM_TOO_LARGE,
              $metadata: meta(400),
            });
          t.items.set(key, structuredClone(input.Item ?? {}));
          return input.ReturnValues === 'ALL_OLD' && old ? { Attributes: old } : {};
        },
        `item/${input.TableName}/${input.Item?.group?.S ?? '?'}`,
      ),
    );
    ddbMock.on(UpdateItemCommand).callsFake((input) =>
      ddb(
        'UpdateItem',
        () => {
          validateExpressions(input);
          const t = table(input.TableName);
          const key = this.sim.tables.keyOf(input.TableName!, input.Key ?? {});
          const old = t.items.get(key);
          conditional(input, old);
          const ctx = { names: input.ExpressionAttributeNames ?? {}, values: input.ExpressionAttributeValues ?? {} };
          const next = applyUpdate(input.UpdateExpression ?? '', old ?? { ...structuredClone(input.Key ?? {}) }, ctx);
          if (itemSize(next) > MAX_ITEM_BYTES)
            throw new DynamoDBServiceException({
              name: 'ValidationException',
              $fault: 'client',
              message: UPDATE_TOO_LARGE,
              $metadata: meta(400),
            });
          t.items.set(key, next);
          if (input.ReturnValues === 'ALL_OLD') return old ? { Attributes: structuredClone(old) } : {};
          if (input.ReturnValues === 'ALL_NEW') return { Attributes: structuredClone(next) };
          return {};
        },
        `item/${input.TableName}/${input.Key?.group?.S ?? '?'}`,
      ),
    );
    ddbMock.on(DeleteItemCommand).callsFake((input) =>
      ddb(
        'DeleteItem',
        () => {
          validateExpressions(input, '1 validation error detected: ');
          const t = table(input.TableName);
          const key = this.sim.tables.keyOf(input.TableName!, input.Key ?? {});
          const old = t.items.get(key);
          conditional(input, old);
          t.items.delete(key);
          return input.ReturnValues === 'ALL_OLD' && old ? { Attributes: old } : {};
        },
        `item/${input.TableName}/${input.Key?.group?.S ?? '?'}`,
      ),
    );

    const sfnMock = mockClient(SFNClient, { sandbox });
    sfnMock.on(DescribeExecutionCommand).callsFake((input) =>
      this.run('sfn', 'DescribeExecution', () => {
        const e = input.executionArn ? this.sim.executions.get(input.executionArn) : undefined;
        if (!e)
          throw new ExecutionDoesNotExist({
            message: `Execution Does Not Exist: '${input.executionArn}'`,
            $metadata: meta(400),
          });
        return {
          executionArn: e.executionArn,
          stateMachineArn: e.stateMachineArn,
          name: e.name,
          status: e.status,
          startDate: new Date(e.startDate),
          stopDate: e.stopDate !== undefined ? new Date(e.stopDate) : undefined,
          input: e.input,
        };
      }),
    );
    sfnMock.on(StartExecutionCommand).callsFake((input) =>
      this.run(
        'sfn',
        'StartExecution',
        () => {
          const arn = input.stateMachineArn ?? '';
          const name = input.name ?? this.sim.rng.uuid();
          // Step Functions refuses whitespace, brackets, wildcards, these specials, and control characters in a name.
          const refused = [...name].some(
            (c) =>
              c.charCodeAt(0) < 0x20 ||
              (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f) ||
              /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/.test(c),
          );
          if (name.length < 1 || name.length > 80 || refused)
            throw new InvalidName({ message: `Invalid Name: '${name}'`, $metadata: meta(400) });
          const start = this.sim.onStartExecution;
          if (!start || !this.sim.stateMachines.has(arn))
            throw new StateMachineDoesNotExist({
              message: `State Machine Does Not Exist: '${arn}'`,
              $metadata: meta(400),
            });
          const executionArn = `${arn.replace(':stateMachine:', ':execution:')}:${name}`;
          const existing = this.sim.executions.get(executionArn);
          if (existing) {
            // Step Functions: the same name and input of a running execution is the same call; anything else is refused.
            if (existing.status === 'RUNNING' && existing.input === (input.input ?? '{}'))
              return { executionArn, startDate: new Date(existing.startDate) };
            throw new ExecutionAlreadyExists({
              message: `Execution Already Exists: '${executionArn}'`,
              $metadata: meta(400),
            });
          }
          const e = start(arn, name, JSON.parse(input.input ?? '{}') as unknown);
          return { executionArn: e.executionArn, startDate: new Date(e.startDate) };
        },
        `execution/${input.stateMachineArn?.split(':').pop()}:${input.name ?? ''}`,
      ),
    );
    sfnMock.on(ListExecutionsCommand).callsFake((input) =>
      this.run('sfn', 'ListExecutions', () => {
        const list = [...this.sim.executions.values()]
          .filter(
            (e) =>
              e.stateMachineArn === input.stateMachineArn && (!input.statusFilter || e.status === input.statusFilter),
          )
          .sort((a, b) => b.startDate - a.startDate);
        const max = input.maxResults || 100;
        const p = page(
          list,
          max,
          input.nextToken,
          { sm: input.stateMachineArn, s: input.statusFilter },
          () =>
            new SFNServiceException({
              name: 'InvalidToken',
              $fault: 'client',
              message: 'Invalid Token',
              $metadata: meta(400),
            }),
        );
        return {
          executions: p.items.map((e) => ({
            executionArn: e.executionArn,
            stateMachineArn: e.stateMachineArn,
            name: e.name,
            status: e.status as ExecutionStatus,
            startDate: new Date(e.startDate),
            stopDate: e.stopDate !== undefined ? new Date(e.stopDate) : undefined,
          })),
          nextToken: p.next,
        };
      }),
    );

    const eksMock = mockClient(EKSClient, { sandbox });
    eksMock.on(DescribeClusterCommand).callsFake((input) =>
      this.run('eks', 'DescribeCluster', () => {
        const c = input.name ? this.sim.eksClusters.get(input.name) : undefined;
        if (!c) throw new EksNotFound({ message: `No cluster found for name: ${input.name}.`, $metadata: meta(404) });
        return {
          cluster: {
            name: input.name,
            arn: `arn:aws:eks:${this.sim.region.name}:123456789012:cluster/${input.name}`,
            endpoint: c.endpoint(),
            certificateAuthority: { data: c.caData },
            status: 'ACTIVE',
            version: '1.33',
          },
        };
      }),
    );

    const secretsMock = mockClient(SecretsManagerClient, { sandbox });
    secretsMock.on(GetSecretValueCommand).callsFake((input) =>
      this.run('secretsmanager', 'GetSecretValue', () => {
        const value = input.SecretId ? this.sim.secrets.get(input.SecretId) : undefined;
        if (value === undefined)
          throw new SecretNotFound({
            message: "Secrets Manager can't find the specified secret.",
            $metadata: meta(400),
          });
        return {
          ARN: `arn:aws:secretsmanager:${this.sim.region.name}:123456789012:secret:${input.SecretId}-AbCdEf`,
          Name: input.SecretId,
          SecretString: value(),
          VersionId: 'v1',
        };
      }),
    );

    const mocks = [asgMock, ec2Mock, ddbMock, sfnMock, eksMock, secretsMock];
    // A command the simulator does not model must not answer an empty success: node-manager would
    // take that for AWS's word. It fails, naming the command, so a new call cannot go unmodelled.
    for (const m of mocks) {
      m.send.callsFake((command: { constructor: { name: string } }) => {
        throw new Error(
          `simulator: ${command.constructor.name} is not modelled; model it in test/sim/aws.ts before node-manager calls it`,
        );
      });
    }
    this.mocks = mocks;
    return () => {
      mocks.forEach((m) => m.restore());
      sandbox.restore();
    };
  }

  private describeInstance(i: SimInstance): Instance {
    const codes: Record<string, number> = {
      pending: 0,
      running: 16,
      'shutting-down': 32,
      terminated: 48,
      stopping: 64,
      stopped: 80,
    };
    return {
      InstanceId: i.id,
      InstanceType: i.instanceType as Instance['InstanceType'],
      LaunchTime: new Date(i.launchTime),
      Placement: { AvailabilityZone: i.zone, Tenancy: 'default' },
      PrivateIpAddress: i.state === 'terminated' ? undefined : i.privateIp,
      PrivateDnsName: i.state === 'terminated' ? '' : i.privateDnsName,
      State: { Name: i.state, Code: codes[i.state] },
      InstanceLifecycle: i.lifecycle === 'spot' ? 'spot' : undefined,
      ...(i.spotRequestId ? { SpotInstanceRequestId: i.spotRequestId } : {}),
      Tags: Object.entries(i.tags).map(([Key, Value]) => ({ Key, Value })),
    };
  }
}
