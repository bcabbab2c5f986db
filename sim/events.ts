import type { Random } from './clock';

/** An EventBridge event as AWS would deliver it (the parts rules match on). */
export interface SimEvent {
  readonly at: number;
  readonly source: 'aws.autoscaling' | 'aws.ec2';
  readonly detailType: string;
  readonly detail: Readonly<Record<string, string>>;
}

/** An EventBridge event as a rule's target receives it. */
export interface EventBridgeEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: string[];
  readonly detail: Record<string, string>;
}

/**
 * The default event bus: the events the region emits (Auto Scaling launch failures, lifecycle
 * actions and terminations, EC2 state changes and Spot warnings), kept in order and handed to
 * whoever subscribed, as a rule's target is.
 */
export class EventBus {
  readonly events: SimEvent[] = [];
  private readonly listeners: Array<(e: SimEvent) => void> = [];

  constructor(
    private readonly region: string,
    private readonly account: string,
    private readonly rng: Random,
  ) {}

  /** Subscribes to events, as an EventBridge rule does. */
  onEvent(listener: (e: SimEvent) => void): void {
    this.listeners.push(listener);
  }

  emit(e: SimEvent): void {
    this.events.push(e);
    for (const l of this.listeners) l(e);
  }

  /** The event as EventBridge delivers it to a rule's target (the documented envelope). */
  toEventBridge(e: SimEvent): EventBridgeEvent {
    const { region, account } = this;
    const instance = e.detail['instance-id'] ?? e.detail.EC2InstanceId;
    const resources =
      e.source === 'aws.ec2'
        ? [`arn:aws:ec2:${region}:${account}:instance/${instance}`]
        : [
            `arn:aws:autoscaling:${region}:${account}:autoScalingGroup:00000000-0000-0000-0000-000000000000:` +
              `autoScalingGroupName/${e.detail.AutoScalingGroupName}`,
          ];
    const id = this.rng.uuid();
    return {
      version: '0',
      id,
      'detail-type': e.detailType,
      source: e.source,
      account,
      time: new Date(e.at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region,
      resources,
      detail: { ...e.detail },
    };
  }
}
