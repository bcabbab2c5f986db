import {
  spotInterruption,
  stopInstances,
  nodeNotReady,
  rebalanceRecommendation,
  foreignInterruption,
} from '../actions';
import { matchesPattern, noticeRules } from '../../lambdas/core';
import { pauseGroup, resumeGroup } from '../../lambdas/lease';
import { noteAlarmChange } from '../../lambdas/operator/breaker';
import { SIM_ACCOUNT, type Simulator } from '../simulator';
import type { WorkflowRunner } from '../workflows/runner';
import type { Scenario } from './format';

/**
 * What a scenario does to the world at its times (faults.ts's kinds: outages, throttles, Spot
 * reclaims, forged starts...), and how its runs start: on a schedule, on Auto Scaling events, or
 * through the stack's interruption rules and gate.
 */

/** Arms each of the scenario's faults at its time. */
export function armFaults(
  sim: Simulator,
  runner: WorkflowRunner,
  scenario: Scenario,
  start: number,
  end: number,
  fired: Array<{ at: number; fault: Scenario['faults'][number] }> = [],
): void {
  for (const f of scenario.faults) {
    const from = start + f.at * 1000;
    sim.clock.at(from, `fault ${f.kind}`, () => {
      fired.push({ at: sim.now(), fault: f });
      switch (f.kind) {
        case 'zoneOutage':
          sim.armFault({
            kind: 'zoneOutage',
            zone: f.zone,
            from,
            until: f.for !== undefined ? from + f.for * 1000 : undefined,
          });
          break;
        case 'instanceTypeOutage':
          sim.armFault({
            kind: 'instanceTypeOutage',
            instanceType: f.instanceType,
            zone: f.zone,
            from,
            until: f.for !== undefined ? from + f.for * 1000 : undefined,
          });
          break;
        case 'neverJoin':
          sim.armNeverJoin(f.count, f.group, f.zone);
          break;
        case 'throttle':
          sim.armFault({
            kind: 'throttle',
            operation: f.operation,
            rate: f.rate,
            times: f.times,
            from,
            until: f.for !== undefined ? from + f.for * 1000 : undefined,
          });
          break;
        case 'callFailure':
          sim.armFault({ kind: 'callFailure', operation: f.operation, times: f.times, from });
          break;
        case 'stepCrash':
          runner.stepCrashes.push({ state: f.state, times: f.times, from });
          break;
        case 'pdbBlock': {
          const w = scenario.workloads.find((x) => x.name === f.workload)!;
          sim.blockBudget(w.namespace, w.name, f.for);
          break;
        }
        case 'rollout': {
          const w = scenario.workloads.find((x) => x.name === f.workload)!;
          sim.cluster.rollout(w.namespace, w.name);
          break;
        }
        case 'stopExecution':
          for (const e of runner.executions) if (e.workflow === f.workflow && e.status === 'RUNNING') runner.stop(e);
          break;
        case 'spotInterruption': {
          const stop = Math.min(end, f.for !== undefined ? from + f.for * 1000 : end);
          const again = (t: number) => {
            spotInterruption(sim, f.group, f.zone, f.count);
            if (f.every !== undefined && t + f.every * 1000 <= stop)
              sim.clock.at(t + f.every * 1000, `fault ${f.kind}`, () => again(t + f.every! * 1000));
          };
          again(from);
          break;
        }
        case 'nodeNotReady':
          nodeNotReady(sim, f.group, f.zone, f.count, f.for);
          break;
        case 'instanceStop':
          stopInstances(sim, f.group, f.zone, f.count, f.for);
          break;
        case 'startExecution': {
          const member = f.target
            ? sim
                .asgsOf(f.target.group)
                .flatMap((a) => a.instanceIds.map((id) => sim.region.instances.get(id)!))
                .find((i) => i.asgLifecycle === 'InService' && (!f.target!.zone || i.zone === f.target!.zone))
            : undefined;
          const input = substitute(f.input, from, { instance: member?.id, asg: member?.asg });
          // As any caller with states:StartExecution would: through the Step Functions API.
          void runner.external(`operator-${from}`, () =>
            runner.deps.sfn
              .startExecution(
                runner.stateMachineArn(f.workflow),
                f.name ?? `crafted-${sim.rng.hex(8)}`,
                JSON.stringify(input),
              )
              .catch((e: unknown) => ({ started: false, error: e })),
          );
          break;
        }
        case 'rebalanceRecommendation':
          rebalanceRecommendation(sim, f.group, f.zone, f.count);
          break;
        case 'foreignInterruption':
          foreignInterruption(sim);
          break;
        case 'pause':
          void pauseGroup(
            runner.deps.pauses,
            f.group,
            { reason: f.reason, ...(f.for !== undefined ? { until: from + f.for * 1000 } : {}), by: 'scenario' },
            sim.now(),
          );
          break;
        case 'newLaunchTemplateVersion':
          for (const a of sim.asgsOf(f.group)) sim.region.templates.bump(a.name);
          break;
        case 'resume':
          void resumeGroup(runner.deps.pauses, f.group);
          break;
        case 'alarm': {
          // What the stack's rule delivers to the breaker: the alarm's state change, AWS's shape.
          const change = (value: string, t: number) =>
            void noteAlarmChange(
              {
                source: 'aws.cloudwatch',
                'detail-type': 'CloudWatch Alarm State Change',
                account: SIM_ACCOUNT,
                time: new Date(t).toISOString(),
                detail: { alarmName: f.name, state: { value, timestamp: new Date(t).toISOString() } },
              },
              runner.deps,
            );
          change('ALARM', from);
          if (f.for !== undefined)
            sim.clock.at(from + f.for * 1000, `fault alarm OK`, () => change('OK', from + f.for! * 1000));
          break;
        }
        case 'scaleAsg': {
          const asg = sim.asgsOf(f.group).find((a) => a.zones.includes(f.zone));
          if (asg) {
            asg.max = Math.max(asg.max, f.desired);
            asg.desired = f.desired;
            sim.region.reconcile(asg);
          }
          break;
        }
      }
    });
  }
}

/** Starts the scenario's runs: at their times, on Auto Scaling events, or as EventBridge delivers notices to the gate. */
export function armRuns(
  sim: Simulator,
  runner: WorkflowRunner,
  scenario: Scenario,
  asgNames: ReadonlyMap<string, readonly string[]>,
  start: number,
  end: number,
): void {
  for (const r of scenario.runs) {
    if ('on' in r && r.on === 'interruption') {
      // The stack's rules (core/notices.ts), matched as EventBridge matches them; their target is the gate.
      const rules = noticeRules(
        SIM_ACCOUNT,
        scenario.groups.map((g) => ({
          name: g.name,
          asgNames: asgNames.get(g.name),
          joinTimeoutSeconds: g.joinTimeoutSeconds,
          ...(g.terminateHook ? { terminateHook: g.terminateHook } : {}),
          launchHook: g.launchHook,
        })),
      );
      sim.bus.onEvent((ev) => {
        if (sim.now() > end) return;
        const event = sim.bus.toEventBridge(ev);
        if (!rules.some((rule) => matchesPattern(rule.pattern, event))) return;
        const deliver = () => {
          if (sim.now() <= end) void runner.invokeGate(event);
        };
        const copies = sim.rng.next() < r.duplicates ? 2 : 1;
        for (let i = 0; i < copies; i += 1) {
          const delay = r.delaySeconds + (r.maxDelaySeconds > 0 ? Math.round(sim.rng.next() * r.maxDelaySeconds) : 0);
          if (delay === 0) deliver();
          else sim.clock.after(delay, 'deliver interruption event', deliver);
        }
      });
      continue;
    }
    if ('on' in r) {
      const mine = new Set(asgNames.get(r.input.group) ?? []);
      sim.bus.onEvent((ev) => {
        if (ev.source === 'aws.autoscaling' && mine.has(ev.detail.AutoScalingGroupName) && sim.now() <= end)
          runner.start(r.workflow, r.input);
      });
      continue;
    }
    const first = start + r.at * 1000;
    const every = 'every' in r ? r.every * 1000 : undefined;
    const launch = (t: number) =>
      sim.clock.at(t, `start ${r.workflow}`, () => {
        runner.start(r.workflow, r.input);
        if (every && t + every <= end) launch(t + every);
      });
    if (first <= end) launch(first);
  }
}

/** `$INSTANCE`, `$ASG` and `$TIME[±duration]` in every string of a crafted input, replaced. */
function substitute(input: unknown, at: number, target: { instance?: string; asg?: string }): unknown {
  const unit: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
  const text = (v: string) =>
    v
      .replace(/\$TIME(?:([+-])(\d+)([smhd]))?/g, (_m, sign?: string, n?: string, u?: string) =>
        new Date(at + (sign ? (sign === '-' ? -1 : 1) * Number(n) * unit[u!] * 1000 : 0))
          .toISOString()
          .replace(/\.\d{3}Z$/, 'Z'),
      )
      .replace(/\$INSTANCE/g, target.instance ?? 'i-0000000000000000')
      .replace(/\$ASG/g, target.asg ?? 'no-asg');
  const walk = (v: unknown): unknown =>
    typeof v === 'string'
      ? text(v)
      : Array.isArray(v)
        ? v.map(walk)
        : typeof v === 'object' && v !== null
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
          : v;
  return walk(input);
}
