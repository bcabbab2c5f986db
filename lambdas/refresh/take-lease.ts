import { groupSettings } from '../config';
import {
  InvalidInputError,
  LeaseHeldError,
  LeaseLostError,
  ReplenishRunningError,
  type RefreshJournal,
  resumeAt,
  STOPPED_REFRESH_KEPT_MS,
} from '../core';
import { groupOf } from '../input';
import { acquireGroupLease } from '../lease';
import { executionName, uncordonAll } from '../drain';
import type { Deps } from '../runtime';
import { COST, freshJournal, next, saveJournal, type RefreshState } from './state';

/**
 * How a refresh takes its group's lease, and what it does with a journal a stopped refresh left
 * there (resume it in its phase), and the last-resort restore when giving the surplus back failed.
 */

/**
 * Takes the lease. A replenish holding it makes the step fail with ReplenishRunning (ASL waits and
 * retries); another refresh makes it fail fast with LeaseHeld, or, for a start by the group's
 * schedule, end at once successfully (`skipped`). A journal left by a stopped refresh
 * is taken over: its start time, home layout and surplus are kept, and the workflow goes on in the
 * phase it stopped in (`resume`). One handed over by our own previous execution is adopted. A
 * retried step (the lease is ours already) says again what the first attempt did.
 */
export async function takeLease(state: RefreshState, deps: Deps): Promise<RefreshState> {
  if (state.continuedFrom) {
    // Our own previous execution handed over: take its lease (it may not have finished yet) and adopt its journal.
    const c = state.continuation;
    if (!c) throw new InvalidInputError('a continued refresh must carry its continuation');
    let before;
    try {
      before = await deps.lease.acceptHandover(state.group, state.execution, c.from, c.token, deps.now());
    } catch (e) {
      if (e instanceof LeaseHeldError)
        throw new InvalidInputError(
          `execution ${executionName(c.from)} offered no hand-over to this execution for group ${state.group} ` +
            `(the lease is held by ${e.holder}); nothing was changed`,
          { cause: e },
        );
      throw e;
    }
    const journal = before?.journal as RefreshJournal | undefined;
    if (!journal)
      throw new LeaseLostError(`execution ${state.continuedFrom} handed over no journal for group ${state.group}`);
    if (journal.execution !== state.execution)
      await saveJournal(deps, state, { ...journal, execution: state.execution });
    return {
      ...next(state, COST.task, {
        lease: `taken over from ${state.continuedFrom}`,
        keepsStart: new Date(journal.startedAt).toISOString(),
        replacedSoFar: journal.replaced,
      }),
      startedAt: journal.startedAt,
      resume: 'surge',
      ...(journal.overrides ? { overrides: journal.overrides } : {}),
      ...(journal.watch ? { watch: journal.watch } : {}),
    };
  }
  let got;
  try {
    got = await acquireGroupLease(deps.lease, deps.sfn, state.group, state.execution, 'refresh', deps.now());
  } catch (e) {
    if (e instanceof LeaseHeldError && e.holderKind === 'replenish') {
      throw new ReplenishRunningError(`replenish ${e.holder} holds group ${state.group}; waiting for it to finish`, {
        cause: e,
      });
    }
    // The schedule fired while the last refresh still runs: nothing to do, and no failure to alarm on.
    if (e instanceof LeaseHeldError && state.trigger === 'schedule')
      return {
        ...next(state, COST.task, {
          skipped:
            `refresh ${executionName(e.holder)} is still running group ${state.group}: this scheduled start ` +
            'changed nothing',
        }),
        skipped: true,
      };
    throw e;
  }
  if (got.recoveredFrom) {
    const dead = got.recoveredKind === 'refresh' ? (got.recoveredJournal as RefreshJournal | undefined) : undefined;
    if (!dead) {
      await saveJournal(deps, state, freshJournal(state));
      return {
        ...next(state, COST.task, {
          lease: `taken over from stopped ${got.recoveredKind ?? ''} execution ${got.recoveredFrom}`,
        }),
        resume: 'surge',
      };
    }
    // Go on with the stopped refresh: its start (nodes it replaced stay replaced), its home layout
    // and its surplus. A batch it was draining is uncordoned and picked again; one it had drained
    // and begun terminating is terminated.
    const at = resumeAt(dead.phase);
    // A batch it had begun terminating stays cordoned (drained, about to go): the batch loop
    // terminates whatever of it still runs. One it was draining is uncordoned and picked again.
    const keepCordoned = [...(at === 'terminate' ? dead.batch : []), ...(dead.terminating ?? [])].map((b) => b.node);
    const uncordoned = await uncordonAll(
      deps.kube,
      dead.cordoned.filter((n) => !keepCordoned.includes(n)),
    );
    const settings = groupSettings(groupOf(deps, state.group));
    const journal: RefreshJournal = {
      ...dead,
      execution: state.execution,
      cordoned: keepCordoned,
      batch: at === 'terminate' ? dead.batch : [],
      phase: at === 'surge' ? 'surge' : dead.phase,
      deadline: deps.now() + (at === 'giveBack' ? settings.drainTimeoutSeconds : settings.joinTimeoutSeconds) * 1000,
      resumedFrom: { execution: got.recoveredFrom, phase: dead.phase },
      // A refresh stopped in its failure path had not refreshed: finish its give-back, then refresh.
      ...(at === 'giveBack' && dead.failure ? { refreshAfterGiveBack: true, failure: undefined } : {}),
    };
    await saveJournal(deps, state, journal);
    return resumed(state, journal, { lease: `taken over from stopped execution ${got.recoveredFrom}`, uncordoned });
  }
  const own = got.recoveredJournal as RefreshJournal | undefined;
  if (own) {
    // Re-entrant: a retried step keeps the journal it already wrote, and says what it was.
    if (own.resumedFrom)
      return resumed(state, own, {
        lease: `already ours (retried); taken over from stopped execution ${own.resumedFrom.execution}`,
      });
    return {
      ...next(state, COST.task, { lease: 'already ours (retried)' }),
      resume: resumeAt(own.phase),
      overrides: own.overrides,
      ...(own.watch ? { watch: own.watch } : {}),
    };
  }
  const stopped = got.memory.stoppedRefresh;
  if (stopped && deps.now() - stopped.at <= STOPPED_REFRESH_KEPT_MS && stopped.startedAt <= state.startedAt) {
    // A stopped refresh whose surplus replenish gave back: go on from its start (journal first, then forget it).
    const journal: RefreshJournal = {
      ...freshJournal(state),
      startedAt: stopped.startedAt,
      replaced: stopped.replaced,
      // Its surplus was given back: this one adds its own and goes on with the oldest nodes left.
      resumedFrom: { execution: stopped.execution, phase: 'surge' },
    };
    await saveJournal(deps, state, journal);
    await deps.lease.writeMemory(state.group, state.execution, { ...got.memory, stoppedRefresh: undefined });
    return resumed(state, journal, {
      lease: 'taken',
      stoppedIn: stopped.phase,
      note: `replenish had taken the stopped refresh's lease over at ${new Date(stopped.at).toISOString()} and given its surplus back`,
    });
  }
  await saveJournal(deps, state, freshJournal(state));
  return {
    ...next(state, COST.task, {
      lease: 'taken',
      ...(stopped ? { startsAnew: `stopped refresh ${executionName(stopped.execution)} is over a week old` } : {}),
    }),
    resume: 'surge',
  };
}

/** The state of a refresh that goes on from a stopped one: its start, and where it resumes, said plainly. */
function resumed(state: RefreshState, journal: RefreshJournal, did: Record<string, unknown>): RefreshState {
  const at = resumeAt(journal.resumedFrom?.phase ?? journal.phase);
  return {
    ...next(state, COST.task, {
      ...did,
      resumed: {
        from: journal.resumedFrom?.execution,
        startedAt: new Date(journal.startedAt).toISOString(),
        stoppedIn: journal.resumedFrom?.phase,
        goesOnWith:
          at === 'giveBack'
            ? journal.refreshAfterGiveBack
              ? 'giving back the surplus of a refresh that had failed, then refreshing anew from its start'
              : 'giving the surplus back'
            : at === 'terminate'
              ? 'terminating the batch it had drained'
              : 'the surge (only what is missing), then the oldest nodes left',
        replacedSoFar: journal.replaced,
        surplusInPlace: journal.surged,
      },
    }),
    startedAt: journal.startedAt,
    resume: at,
    resumedFrom: journal.resumedFrom?.execution,
    // The overrides its start was given stay with the refresh (a stopped one's own, not this start's).
    overrides: journal.overrides,
    ...(journal.watch ? { watch: journal.watch } : {}),
  };
}
