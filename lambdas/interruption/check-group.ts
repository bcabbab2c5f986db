import { memoryOf } from '../lease';
import { reclaimShortfall } from '../core';
import type { Deps } from '../runtime';
import { lookAtGroup } from '../snapshot';
import type { InterruptionState } from './state';

/** How often the group is looked at until its replacement is Ready. */
export const WHOLE_POLL_SECONDS = 15;
/** Beyond a replacement's join timeout, a shortfall is replenish's to follow (and to measure). */
const GIVE_UP_MARGIN_SECONDS = 120;

/**
 * After a reclaimed node's drain: how long the group had fewer Ready nodes than desiredReady
 * because of it, from the cordon (its pods had to go elsewhere) until enough replacements were
 * Ready (their nodes' Ready transition times), published once per reclaim (SecondsBelowDesired,
 * 0 when the group had room). Looks again every {@link WHOLE_POLL_SECONDS} until the group is
 * whole, or leaves it to replenish after the join timeout. Reads only, but for one bookkeeping
 * write: a shortfall replenish saw begin after the cordon is this one, measured here, not again.
 */
export async function checkGroup(state: InterruptionState, deps: Deps): Promise<InterruptionState> {
  const group = state.group;
  const cordonAt = state.startedAt;
  if (group === undefined || cordonAt === undefined) return { ...state, wholeSeconds: 0 };
  const { settings, c, now } = await lookAtGroup(deps, group);
  const r = reclaimShortfall({
    cordonAt,
    desiredReady: settings.desiredReady,
    ready: c.members
      .filter((m) => m.state === 'ready')
      // A replacement: a node registered since the cordon (the look describes EC2 only for members without one).
      .map((m) => ({ launchedAt: m.node?.createdAt ?? m.launchTime, readySince: m.node?.readySince })),
    now,
  });
  const seen = `${c.counts.ready} Ready of ${settings.desiredReady}`;
  if (!r.whole) {
    if (now - cordonAt <= (settings.joinTimeoutSeconds + GIVE_UP_MARGIN_SECONDS) * 1000)
      return {
        ...state,
        wholeSeconds: WHOLE_POLL_SECONDS,
        did: {
          ...state.did,
          whole: `${seen}, ${r.seconds}s after the cordon: looking again in ${WHOLE_POLL_SECONDS}s`,
        },
      };
    return {
      ...state,
      wholeSeconds: 0,
      did: { ...state.did, whole: `still ${seen} ${r.seconds}s after the cordon: replenish follows it from here` },
    };
  }
  deps.metrics.add('SecondsBelowDesired', r.seconds);
  const rec = await deps.lease.get(group);
  const memory = memoryOf(rec);
  if (memory.shortSince !== undefined && memory.shortSince >= cordonAt) {
    const { shortSince: _mine, ...rest } = memory;
    await deps.lease.writeMemoryUnheld(group, rest, rec?.memory);
  }
  return {
    ...state,
    wholeSeconds: 0,
    did: {
      ...state.did,
      whole: r.seconds
        ? `below desiredReady for ${r.seconds}s, from the cordon until its replacement was Ready`
        : 'never below desiredReady: the group had room for its pods',
    },
  };
}
