import {
  DescribeLaunchTemplatesCommand,
  DescribeInstancesCommand,
  DescribeSpotInstanceRequestsCommand,
  TerminateInstancesCommand,
  type Instance,
} from '@aws-sdk/client-ec2';
import { visibleInstances } from './ec2-actions';
import { ec2Error, operation, page, type AwsHost, type Operation } from './common';
import type { SimInstance } from './model';

function describeInstance(i: SimInstance): Instance {
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

/**
 * EC2 as node-manager calls it: instances by id filter and pages (AWS's refusals of `InstanceIds`
 * with `MaxResults`, of more than 200 filter values), TerminateInstances, and Spot requests.
 */
export function ec2Operations(host: AwsHost): Operation[] {
  return [
    operation('DescribeInstances', DescribeInstancesCommand, (input) => {
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
      const visible = visibleInstances(host.region);
      if (ids) {
        const missing = ids.filter((id) => !visible.some((i) => i.id === id));
        if (missing.length > 0)
          throw ec2Error('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
      }
      const filters: Array<{ Name?: string; Values?: string[] }> = input.Filters ?? [];
      // The limit is on the call, over all its filters together.
      if (filters.reduce((n, f) => n + (f.Values?.length ?? 0), 0) > 200)
        throw ec2Error('FilterLimitExceeded', 'The maximum number of filter values specified on a single call is 200');
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
          Instances: [describeInstance(i)],
        })),
        NextToken: p.next,
      };
    }),
    operation(
      'TerminateInstances',
      TerminateInstancesCommand,
      (input) => {
        const ids: string[] = input.InstanceIds ?? [];
        const insts = ids.map((id) => {
          const inst = host.region.instances.get(id);
          if (!inst) throw ec2Error('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
          return inst;
        });
        return {
          TerminatingInstances: insts.map((inst) => {
            const previous = inst.state;
            host.region.terminateFromEc2(
              inst,
              `an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped.`,
            );
            return { InstanceId: inst.id, PreviousState: { Name: previous }, CurrentState: { Name: inst.state } };
          }),
        };
      },
      (input) => `instances=${(input.InstanceIds ?? []).join(',')}`,
    ),
    operation('DescribeSpotInstanceRequests', DescribeSpotInstanceRequestsCommand, (input) => {
      const filters: Array<{ Name?: string; Values?: string[] }> = input.Filters ?? [];
      const ids: string[] | undefined = input.SpotInstanceRequestIds;
      const requests = [...host.region.spotRequests.values()];
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
    operation('DescribeLaunchTemplates', DescribeLaunchTemplatesCommand, (input) => {
      const region = host.region;
      const asgs = [...region.asgs.keys()];
      const ids: string[] = input.LaunchTemplateIds ?? asgs.map((a) => region.templates.idOf(a));
      return {
        LaunchTemplates: ids.map((id) => {
          const asg = region.templates.asgOf(id, asgs);
          if (!asg)
            throw ec2Error(
              'InvalidLaunchTemplateId.NotFound',
              `The specified launch template, with template ID ${id}, does not exist.`,
            );
          return {
            LaunchTemplateId: id,
            LaunchTemplateName: region.templates.nameOf(asg),
            DefaultVersionNumber: 1,
            LatestVersionNumber: region.templates.latestOf(asg),
          };
        }),
      };
    }),
  ];
}
