import type { SimInstance } from '../aws/model';

/** Pod keys (`namespace/name`) by one of their fields: the node a pod is bound to, or its workload. */
export class PodIndex {
  private readonly byKey = new Map<string, Set<string>>();

  add(key: string | undefined, pod: string): void {
    if (key === undefined) return;
    let set = this.byKey.get(key);
    if (!set) {
      set = new Set();
      this.byKey.set(key, set);
    }
    set.add(pod);
  }

  delete(key: string | undefined, pod: string): void {
    if (key !== undefined) this.byKey.get(key)?.delete(pod);
  }

  of(key: string): string[] {
    return [...(this.byKey.get(key) ?? [])];
  }
}

/**
 * etcd-manager's volumes: one control-plane instance per ASG mounts its zone's etcd volume; another
 * instance of the same ASG waits (unregistered) until the holder is gone.
 */
export class EtcdSlots {
  private readonly holders = new Map<string, string>();
  private readonly waiting: SimInstance[] = [];

  /** Whether the instance may register now; if not, it waits for the slot. */
  claim(inst: SimInstance, asg: string): boolean {
    const holder = this.holders.get(asg);
    if (holder && holder !== inst.id) {
      this.waiting.push(inst);
      return false;
    }
    this.holders.set(asg, inst.id);
    return true;
  }

  /** The instance stopped: it waits no longer. */
  forget(inst: SimInstance): void {
    this.waiting.splice(0, this.waiting.length, ...this.waiting.filter((i) => i.id !== inst.id));
  }

  /** The instance is gone: its slots are free, and the running instances waiting for them may register (returned). */
  release(inst: SimInstance): SimInstance[] {
    const next: SimInstance[] = [];
    for (const [asg, holder] of this.holders) {
      if (holder !== inst.id) continue;
      this.holders.delete(asg);
      const waiting = this.waiting.find((i) => i.asg === asg && i.state === 'running');
      if (waiting) {
        this.waiting.splice(this.waiting.indexOf(waiting), 1);
        next.push(waiting);
      }
    }
    return next;
  }
}
