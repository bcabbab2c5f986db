/**
 * Faults the simulator can arm. Each is active from `from` until `until` (epoch ms on the virtual
 * clock); call-counted faults also stop after `times` hits.
 */
export type Fault =
  | { readonly kind: 'zoneOutage'; readonly zone: string; readonly from: number; readonly until?: number }
  | {
      readonly kind: 'instanceTypeOutage';
      readonly instanceType: string;
      readonly zone?: string;
      readonly from: number;
      readonly until?: number;
    }
  /**
   * Throttles an AWS operation (`DescribeAutoScalingGroups`) or a Kubernetes call (`list nodes`), on a share of calls
   * or the next `times`.
   */
  | {
      readonly kind: 'throttle';
      readonly operation: string;
      readonly rate?: number;
      times?: number;
      readonly from: number;
      readonly until?: number;
    }
  /** The next `times` calls of an operation fail with a server error (AWS `InternalFailure`, Kubernetes 500). */
  | {
      readonly kind: 'callFailure';
      readonly operation: string;
      times: number;
      readonly from: number;
      readonly until?: number;
    };

export function isActive(f: Fault, now: number): boolean {
  return (
    now >= f.from &&
    (f.until === undefined || now < f.until) &&
    (!('times' in f) || f.times === undefined || f.times > 0)
  );
}

export const INSUFFICIENT_CAPACITY =
  'Could not launch Spot Instances. InsufficientInstanceCapacity - There is no Spot capacity available that ' +
  'matches your request. Launching EC2 instance failed.';
export const INSUFFICIENT_ON_DEMAND =
  'We currently do not have sufficient capacity in the Availability Zone you requested. Launching EC2 instance failed.';
