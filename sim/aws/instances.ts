import type { Random } from '../clock';
import type { PresetMember, SimAsg, SimInstance, SimSpotRequest } from './model';
import type { LaunchTemplates } from './templates';

/** What making an instance reads and fills of its region. */
export interface InstanceHost {
  readonly name: string;
  readonly rng: Random;
  readonly instances: Map<string, SimInstance>;
  readonly spotRequests: Map<string, SimSpotRequest>;
  readonly templates: LaunchTemplates;
}

/**
 * A launch's instance as EC2 makes it: its id, its private address and DNS name (kops and EKS
 * name nodes after it), its Spot request, its ASG's tags and launch template version; and the
 * neverJoin faults armed for the next launches.
 */
export class InstanceFactory {
  private ipCounter = 10;
  private readonly presetIps = new Set<string>();
  private readonly neverJoin: Array<{ nodeGroup?: string; zone?: string; remaining: number }> = [];

  constructor(private readonly region: InstanceHost) {}

  /** The next `count` instances launched (in the group and zone, when given) never join the cluster. */
  armNeverJoin(count: number, nodeGroup?: string, zone?: string): void {
    this.neverJoin.push({ nodeGroup, zone, remaining: count });
  }

  private nextIp(): string {
    for (;;) {
      const n = this.ipCounter++;
      const ip = `10.0.${Math.floor(n / 250) % 250}.${(n % 250) + 4}`;
      // A preset member may hold an address of the sequence: its node name is taken.
      if (!this.presetIps.has(ip)) return ip;
    }
  }

  create(asg: SimAsg, zone: string, instanceType: string, launchTime: number, preset?: PresetMember): SimInstance {
    if (preset?.privateIp) this.presetIps.add(preset.privateIp);
    const ip = preset?.privateIp ?? this.nextIp();
    const rule = this.neverJoin.find(
      (r) => r.remaining > 0 && (!r.nodeGroup || r.nodeGroup === asg.nodeGroup) && (!r.zone || r.zone === zone),
    );
    if (rule) rule.remaining -= 1;
    const id = preset?.instanceId ?? `i-0${this.region.rng.hex(16)}`;
    let spotRequestId: string | undefined;
    if (asg.lifecycle === 'spot') {
      spotRequestId = `sir-${this.region.rng.hex(8)}`;
      this.region.spotRequests.set(spotRequestId, {
        id: spotRequestId,
        instanceId: id,
        zone,
        state: 'active',
        code: 'fulfilled',
        message: 'Your spot request is fulfilled.',
        createdAt: launchTime,
        updatedAt: launchTime,
      });
    }
    const inst: SimInstance = {
      id,
      asg: asg.name,
      zone,
      instanceType,
      lifecycle: asg.lifecycle,
      launchTime,
      state: 'pending',
      asgLifecycle: 'Pending',
      privateIp: ip,
      privateDnsName: `ip-${ip.replace(/\./g, '-')}.${this.region.name}.compute.internal`,
      nodeGroup: asg.nodeGroup,
      role: asg.role,
      launchTemplateVersion: this.region.templates.latestOf(asg.name),
      neverJoin: !!rule,
      registered: false,
      ...(spotRequestId ? { spotRequestId } : {}),
      tags: { ...asg.tags, 'aws:autoscaling:groupName': asg.name },
    };
    this.region.instances.set(inst.id, inst);
    asg.instanceIds.push(inst.id);
    return inst;
  }
}
