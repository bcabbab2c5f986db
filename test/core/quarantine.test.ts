import { planQuarantine, type AsgState, type Quarantined } from '../../lambdas/core';

const HOUR = 3600_000;
const asg = (state: string | undefined, sizes = { desired: 1, max: 1 }): AsgState => ({
  name: 'nodes-a',
  zones: ['ap-northeast-1a'],
  min: 1,
  ...sizes,
  instances: state
    ? [{ instanceId: 'i-1', zone: 'ap-northeast-1a', lifecycleState: state, healthStatus: 'Healthy' }]
    : [],
  activities: [],
  tags: {},
});
const entry = (e: Partial<Quarantined> = {}): Quarantined => ({
  asg: 'nodes-a',
  node: 'n1',
  since: 0,
  until: 6 * HOUR,
  phase: 'standby',
  ...e,
});
const plan = (e: Quarantined, a: AsgState, pods: string[] | undefined, now: number) =>
  planQuarantine({ 'i-1': e }, [a], () => pods, now);

describe('planQuarantine: reaping a quarantined node as the Standby documentation allows', () => {
  it('waits while pods run before the deadline, naming them', () => {
    const p = plan(entry(), asg('Standby'), ['default/db-1'], HOUR);
    expect(p.steps).toEqual([
      expect.objectContaining({ kind: 'wait', why: expect.stringContaining('1 pod(s) still running (default/db-1)') }),
    ]);
    expect(p.entries['i-1'].phase).toBe('standby');
  });

  it('moves an empty node out of Standby, raising MaxSize for desired + 1 and remembering it', () => {
    const p = plan(entry(), asg('Standby'), [], HOUR);
    expect(p.steps).toEqual([
      expect.objectContaining({ kind: 'exit', raiseMaxTo: 2, why: expect.stringMatching(/its pods finished$/) }),
    ]);
    expect(p.entries['i-1']).toMatchObject({ phase: 'exiting', maxFrom: 1 });
  });

  it('at the deadline goes on with the pods left, and keeps them to name', () => {
    const p = plan(entry(), asg('Standby', { desired: 1, max: 3 }), ['default/db-1'], 7 * HOUR);
    expect(p.steps[0]).toMatchObject({ kind: 'exit' });
    expect(p.steps[0]).not.toHaveProperty('raiseMaxTo');
    expect(p.entries['i-1']).toMatchObject({ phase: 'exiting', podsLeft: ['default/db-1'] });
    expect(p.entries['i-1']).not.toHaveProperty('maxFrom');
  });

  it('waits while the instance passes Pending, then terminates it once InService', () => {
    expect(
      plan(entry({ phase: 'exiting' }), asg('Pending:Wait', { desired: 2, max: 2 }), undefined, HOUR).steps[0],
    ).toMatchObject({
      kind: 'wait',
    });
    const p = plan(entry({ phase: 'exiting', maxFrom: 1 }), asg('InService', { desired: 2, max: 2 }), undefined, HOUR);
    expect(p.steps[0]).toMatchObject({ kind: 'terminate' });
    expect(p.entries['i-1']).toMatchObject({ phase: 'terminating', maxFrom: 1 });
  });

  it('asks ExitStandby again when a pass stopped before it, and terminates again when the terminate was cut short', () => {
    expect(
      plan(entry({ phase: 'exiting' }), asg('Standby', { desired: 2, max: 2 }), undefined, HOUR).steps[0],
    ).toMatchObject({
      kind: 'exit',
      raiseMaxTo: 3,
    });
    expect(plan(entry({ phase: 'terminating' }), asg('InService'), undefined, HOUR).steps[0]).toMatchObject({
      kind: 'terminate',
    });
  });

  it('forgets an instance that is gone or terminating', () => {
    for (const a of [asg(undefined), asg('Terminating'), asg('Terminating:Wait')]) {
      const p = plan(entry({ phase: 'terminating' }), a, undefined, HOUR);
      expect(p.steps[0]).toMatchObject({ kind: 'forget' });
      expect(p.entries).toEqual({});
    }
  });

  it('undoes a quarantine whose instance never reached Standby: uncordons its node', () => {
    const p = plan(entry(), asg('InService'), undefined, HOUR);
    expect(p.steps[0]).toMatchObject({ kind: 'forget', uncordon: 'n1' });
    expect(p.entries).toEqual({});
  });

  it('takes one instance of an ASG out of Standby at a time (each exit raises desired by one)', () => {
    const two = {
      ...asg('Standby'),
      instances: ['i-1', 'i-2'].map((id) => ({
        instanceId: id,
        zone: 'ap-northeast-1a',
        lifecycleState: 'Standby',
        healthStatus: 'Healthy',
      })),
    };
    const p = planQuarantine({ 'i-1': entry(), 'i-2': entry({ node: 'n2' }) }, [two], () => [], HOUR);
    expect(p.steps.map((x) => x.kind)).toEqual(['exit', 'wait']);
    expect(p.steps[1].why).toContain('another of its ASG leaves Standby first');
  });
});
