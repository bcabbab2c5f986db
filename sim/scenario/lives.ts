import type { Simulator } from '../simulator';

/** A node's life as the picture draws it: each phase from when it began (seconds from the start). */
export type Phase = 'booting' | 'joining' | 'ready' | 'notReady' | 'cordoned' | 'draining' | 'gone';

export interface Life {
  readonly instanceId: string;
  readonly group: string;
  /** The ASG it was launched in (kept after a detach). */
  readonly asg: string;
  readonly zone: string;
  readonly node?: string;
  readonly phases: Array<[number, Phase]>;
}

/** node-manager's marks on a node it drains (lambdas/kube/objects.ts): cordoned by us, pods leaving. */
const OUR_MARKS = ['node-manager.io/draining', 'node-manager.io/interruption'];

/**
 * Follows every instance of the scenario's groups from launch to gone, sampled as the run goes
 * (after each step and each tick of virtual time): the phases the picture draws per ASG.
 */
export class LifeRecorder {
  private readonly lives = new Map<string, Life & { node?: string }>();

  constructor(
    private readonly sim: Simulator,
    private readonly start: number,
  ) {}

  sample(): void {
    const at = (this.sim.now() - this.start) / 1000;
    const nodes = new Map([...this.sim.cluster.nodes.values()].map((n) => [n.instanceId, n]));
    for (const inst of this.sim.region.instances.values()) {
      let life = this.lives.get(inst.id);
      if (!life) {
        if (inst.state === 'terminated' && inst.launchTime < this.start) continue;
        life = { instanceId: inst.id, group: inst.nodeGroup, asg: inst.asg ?? '', zone: inst.zone, phases: [] };
        this.lives.set(inst.id, life);
      }
      const node = nodes.get(inst.id);
      if (node && !life.node) life.node = node.name;
      const phase: Phase =
        inst.state === 'shutting-down' || inst.state === 'terminated' || inst.state === 'stopped'
          ? 'gone'
          : !node
            ? inst.registered
              ? 'gone'
              : 'booting'
            : node.taints.some((t) => OUR_MARKS.includes(t.key))
              ? 'draining'
              : node.unschedulable
                ? 'cordoned'
                : node.ready
                  ? 'ready'
                  : inst.registered && node.readySince > node.createdAt
                    ? 'notReady'
                    : 'joining';
      const last = life.phases[life.phases.length - 1];
      if (last?.[1] === phase) continue;
      // Before the start: its phase at the start, from 0.
      life.phases.push([Math.max(0, at, (inst.launchTime - this.start) / 1000), phase]);
    }
  }

  /** Every life, launch order. */
  all(): Life[] {
    return [...this.lives.values()];
  }
}
