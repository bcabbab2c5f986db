import { createHash } from 'node:crypto';

/**
 * One launch template per ASG, as kops and eksctl create them: the ASG launches `$Latest`, and a
 * new version (an AMI or user-data change) is what makes its running members outdated. Ids are
 * derived from the ASG's name, so adding templates draws nothing from the simulator's random stream.
 */
export class LaunchTemplates {
  private readonly latest = new Map<string, number>();

  idOf(asg: string): string {
    return `lt-0${createHash('sha1').update(asg).digest('hex').slice(0, 16)}`;
  }

  nameOf(asg: string): string {
    return asg.slice(0, 128);
  }

  /** The version a launch gets now (`$Latest`). */
  latestOf(asg: string): number {
    return this.latest.get(asg) ?? 1;
  }

  /** A new version is created and becomes `$Latest` (running instances keep theirs). */
  bump(asg: string): number {
    const v = this.latestOf(asg) + 1;
    this.latest.set(asg, v);
    return v;
  }

  /** The template with this id, by its ASG's name (undefined: no such template). */
  asgOf(id: string, asgs: Iterable<string>): string | undefined {
    for (const a of asgs) if (this.idOf(a) === id) return a;
    return undefined;
  }
}
