import { DRAIN_FILTERS, judgePod, podsHoldingDrain, podsToEvict, type DrainPod } from '../../lambdas/core';

const pod = (name: string, extra: Partial<DrainPod> = {}): DrainPod => ({
  namespace: 'd',
  name,
  phase: 'Running',
  isDaemonSet: false,
  isMirror: false,
  deleting: false,
  ownerKind: 'ReplicaSet',
  ...extra,
});

describe('the drain filters', () => {
  it('run in kubectl order and name the filter that decided', () => {
    expect(DRAIN_FILTERS.map((f) => f.name)).toEqual([
      'finished',
      'mirror',
      'daemonSet',
      'leaving',
      'doNotDisrupt',
      'unreplicated',
      'localStorage',
    ]);
    expect(judgePod(pod('web'))).toEqual({
      verdict: 'evict',
      filter: 'default',
      reason: 'evicted through the Eviction API',
    });
    expect(judgePod(pod('ds', { isDaemonSet: true }))).toMatchObject({ verdict: 'leave', filter: 'daemonSet' });
    expect(judgePod(pod('static', { isMirror: true }))).toMatchObject({ verdict: 'leave', filter: 'mirror' });
    expect(judgePod(pod('going', { deleting: true }))).toMatchObject({ verdict: 'wait', filter: 'leaving' });
    // The first filter with a verdict decides: a finished pod being deleted is not waited for.
    expect(judgePod(pod('done', { phase: 'Succeeded', deleting: true }))).toMatchObject({
      verdict: 'leave',
      filter: 'finished',
      reason: 'its phase is Succeeded: nothing runs',
    });
    // A pod no controller owns is evicted by an interruption (the node goes anyway) and named lost.
    expect(judgePod(pod('bare', { ownerKind: undefined }))).toMatchObject({
      verdict: 'evict',
      filter: 'unreplicated',
      lost: true,
    });
    // A DaemonSet pod on its way out is not waited for either: its controller owns it.
    expect(judgePod(pod('ds-going', { isDaemonSet: true, deleting: true }))).toMatchObject({ filter: 'daemonSet' });
  });

  it('evict what may go and wait for what is leaving; leave DaemonSet, mirror and finished pods', () => {
    const pods = [
      pod('web'),
      pod('ds', { isDaemonSet: true }),
      pod('static', { isMirror: true }),
      pod('going', { deleting: true }),
      pod('job', { phase: 'Failed' }),
    ];
    expect(podsToEvict(pods).map((p) => p.name)).toEqual(['web']);
    expect(podsHoldingDrain(pods).map((p) => p.name)).toEqual(['web', 'going']);
  });
});
