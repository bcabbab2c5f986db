import type { Random } from '../clock';
import type { SimActivity, SimAsg } from './model';

/** Scaling activities a group keeps in its history (AWS keeps six weeks; the planners read the newest few). */
const ACTIVITY_HISTORY = 200;

/** Records a scaling activity on the group, newest first, as DescribeScalingActivities lists them. */
export function recordActivity(
  asg: SimAsg,
  rng: Random,
  now: number,
  a: {
    readonly description: string;
    readonly cause: string;
    readonly status: SimActivity['StatusCode'];
    readonly statusMessage?: string;
  },
): SimActivity {
  const activity: SimActivity = {
    ActivityId: `${rng.hex(8)}-${rng.hex(4)}-${rng.hex(4)}-${rng.hex(4)}-${rng.hex(12)}`,
    AutoScalingGroupName: asg.name,
    Description: a.description,
    Cause: `At ${new Date(now).toISOString()} ${a.cause}`,
    StartTime: now,
    EndTime: a.status === 'InProgress' ? undefined : now,
    StatusCode: a.status,
    StatusMessage: a.statusMessage,
    Progress: a.status === 'InProgress' ? 30 : 100,
  };
  asg.activities.unshift(activity);
  if (asg.activities.length > ACTIVITY_HISTORY) asg.activities.length = ACTIVITY_HISTORY;
  return activity;
}
