import type { EC2Client, Instance } from '@aws-sdk/client-ec2';
import type { Ec2State, InstanceState } from '../core';
import { call, chunks } from './errors';
import { lazyClient, sdk, type ClientSource } from './lazy';

/**
 * Ids go in an `instance-id` filter rather than `InstanceIds`: with a filter, an id that no longer
 * exists is simply absent instead of failing the whole call, and `MaxResults` (which AWS forbids
 * together with `InstanceIds`) keeps pages bounded.
 */
export const INSTANCE_IDS_PER_FILTER = 200;
export const INSTANCES_PER_PAGE = 1000;
export const TERMINATE_PER_CALL = 1000;

function toInstanceState(i: Instance): InstanceState {
  return {
    instanceId: i.InstanceId ?? '',
    zone: i.Placement?.AvailabilityZone ?? '',
    instanceType: i.InstanceType ?? '',
    lifecycle: i.InstanceLifecycle === 'spot' ? 'spot' : 'on-demand',
    launchTime: i.LaunchTime?.getTime() ?? 0,
    state: (i.State?.Name ?? 'pending') as Ec2State,
    privateDnsName: i.PrivateDnsName || undefined,
    ...(i.SpotInstanceRequestId ? { spotRequestId: i.SpotInstanceRequestId } : {}),
    tags: Object.fromEntries((i.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
  };
}

/**
 * The EC2 client loads on first use (see aws/lazy.ts): @aws-sdk/client-ec2 is by far the heaviest
 * module a function loads, and most steps never call EC2 (a refresh's looks ask only about
 * launches in flight; an idle pass, nothing).
 */
export class Ec2Port {
  private readonly clientOf: () => EC2Client;

  constructor(source: ClientSource<EC2Client>) {
    this.clientOf = lazyClient(source);
  }

  private get client(): EC2Client {
    return this.clientOf();
  }

  async describeInstances(instanceIds: readonly string[]): Promise<InstanceState[]> {
    const out: InstanceState[] = [];
    for (const batch of chunks([...new Set(instanceIds)], INSTANCE_IDS_PER_FILTER)) {
      let NextToken: string | undefined;
      do {
        const { DescribeInstancesCommand } = sdk.ec2();
        const page = await call('DescribeInstances', () =>
          this.client.send(
            new DescribeInstancesCommand({
              Filters: [{ Name: 'instance-id', Values: batch }],
              MaxResults: INSTANCES_PER_PAGE,
              NextToken,
            }),
          ),
        );
        for (const r of page.Reservations ?? []) out.push(...(r.Instances ?? []).map(toInstanceState));
        NextToken = page.NextToken;
      } while (NextToken);
    }
    return out;
  }

  /**
   * The status code of an instance's Spot request (`fulfilled`, `marked-for-termination`,
   * `instance-terminated-no-capacity` ...): what EC2 itself says of an interruption. Undefined when
   * EC2 shows no request for it.
   */
  async spotRequestStatus(instanceId: string): Promise<string | undefined> {
    const { DescribeSpotInstanceRequestsCommand } = sdk.ec2();
    const out = await call('DescribeSpotInstanceRequests', () =>
      this.client.send(
        new DescribeSpotInstanceRequestsCommand({ Filters: [{ Name: 'instance-id', Values: [instanceId] }] }),
      ),
    );
    const requests = (out.SpotInstanceRequests ?? []).filter((r) => r.InstanceId === instanceId);
    // The newest request is the instance's own (a persistent request may have had others).
    requests.sort((a, b) => (b.CreateTime?.getTime() ?? 0) - (a.CreateTime?.getTime() ?? 0));
    return requests[0]?.Status?.Code;
  }

  /** Terminates instances directly (after they were detached from their ASG). Terminating twice is harmless. */
  async terminateInstances(instanceIds: readonly string[]): Promise<void> {
    for (const batch of chunks(instanceIds, TERMINATE_PER_CALL)) {
      const { TerminateInstancesCommand } = sdk.ec2();
      await call('TerminateInstances', () => this.client.send(new TerminateInstancesCommand({ InstanceIds: batch })));
    }
  }

  /**
   * Each launch template's latest and default version numbers, by id (templates that no longer
   * exist are absent): what `$Latest` and `$Default` mean now.
   */
  async describeLaunchTemplates(ids: readonly string[]): Promise<Map<string, { latest: string; default: string }>> {
    const out = new Map<string, { latest: string; default: string }>();
    for (const id of new Set(ids)) {
      const { DescribeLaunchTemplatesCommand } = sdk.ec2();
      try {
        const page = await call('DescribeLaunchTemplates', () =>
          this.client.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [id] })),
        );
        for (const t of page.LaunchTemplates ?? [])
          if (t.LaunchTemplateId)
            out.set(t.LaunchTemplateId, {
              latest: String(t.LatestVersionNumber ?? ''),
              default: String(t.DefaultVersionNumber ?? ''),
            });
      } catch (e) {
        // One template gone (its group is being replaced) must not hide the others.
        if ((e as { name?: string }).name === 'AwsValidation' || /NotFound/.test(String((e as Error).message)))
          continue;
        throw e;
      }
    }
    return out;
  }
}
