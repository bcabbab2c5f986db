import { LifeRecorder } from './lives';
import { parseConfig, type Config } from '../../lib/config/schema';
import type { Scenario } from './format';
import { WorkflowRunner } from '../workflows/runner';
import { RBAC_FORCE_MANIFEST, RBAC_MANIFESTS } from '../kube/rbac';
import { SIM_ACCOUNT, Simulator } from '../simulator';
import { nodeManagerStack } from '../aws/cloudformation';
import { operatorGroups } from '../../lambdas/config';
import { buildReport, LEASE_TABLE, type Report } from './report';
import { armFaults, armRuns } from './triggers';
import { LAUNCH_HOOK_NAME, launchHookTimeoutSeconds, TERMINATE_HOOK_NAME } from '../../lambdas/core';
import { TTL_ATTRIBUTE } from '../../lambdas/aws/lease-store';

export type { Report } from './report';
export { InvalidScenarioError, parseScenario, scenarioJsonSchema, ScenarioSchema, type Scenario } from './format';

export interface ScenarioRun {
  readonly report: Report;
  readonly runner: WorkflowRunner;
  readonly sim: Simulator;
  readonly start: number;
}

/** The hooks' names, as the stack creates them. */
export const TERMINATE_HOOK = TERMINATE_HOOK_NAME;
export const LAUNCH_HOOK = LAUNCH_HOOK_NAME;

const KUBECONFIG_SECRET = 'node-manager/kubeconfig';

/**
 * Runs a scenario: builds the simulated cluster, arms the faults, starts the runs on virtual time
 * with the real ASL and handlers, and reports what a bill and an operator would see.
 */
export interface ScenarioOptions {
  /** Called once the world is built, before time starts (tests arm extra probes here). */
  readonly onReady?: (sim: Simulator, runner: WorkflowRunner) => void;
  /** Deployment settings beyond what scenarios describe. */
  readonly historyEventBudget?: number;
  /**
   * Serve: run paced at `speed` times real time, and leave the simulator running when the scenario
   * ends (the caller stops it), so that kubectl can watch the cluster as it changes.
   */
  readonly serve?: { readonly speed: number; readonly port?: number; readonly onStart?: (sim: Simulator) => void };
  /**
   * Serve the simulated AWS APIs over HTTP (`port`, 0 for any; `--serve` always does), and with
   * `overWire` send this process's SDK clients (the handlers') there rather than the in-process route.
   */
  readonly aws?: { readonly port?: number; readonly overWire?: boolean };
}

export async function runScenario(scenario: Scenario, options: ScenarioOptions = {}): Promise<ScenarioRun> {
  const sim = await Simulator.start({
    region: scenario.region,
    clusterName: scenario.cluster.name,
    timing: scenario.timing,
    seed: scenario.seed,
    startAt: Date.parse(scenario.start),
    apiPort: options.serve?.port,
    ...(options.aws || options.serve ? { awsPort: options.aws?.port ?? 0, awsOverWire: !!options.aws?.overWire } : {}),
    // A group that forces its drains needs deploy/rbac-force.yaml, which its operator applies with the rest.
    ...(scenario.groups.some((g) => g.drain.onTimeout === 'force')
      ? { rbacManifests: [...RBAC_MANIFESTS, RBAC_FORCE_MANIFEST] }
      : {}),
  });
  try {
    const start = sim.now();
    const asgNames = new Map<string, string[]>();
    for (const g of scenario.groups) {
      asgNames.set(
        g.name,
        sim.addNodeGroup({
          name: g.name,
          role: g.role,
          zones: g.zones,
          perZone: g.perZone ?? 0,
          maxPerZone: g.maxPerZone ?? g.perZone,
          minPerZone: g.minPerZone ?? g.perZone,
          ...(g.asgs
            ? {
                asgs: g.asgs.map((a) => ({
                  ...a,
                  members: a.members.map((m) => ({ ...m, launchTime: Date.parse(m.launchedAt) })),
                })),
              }
            : {}),
          instanceTypes: g.instanceTypes,
          lifecycle: g.lifecycle,
          instanceAgeDays: g.instanceAgeDays,
          ...(g.allocatable ? { allocatable: g.allocatable } : {}),
          capacityRebalance: g.capacityRebalance,
          ...(g.terminateHook
            ? {
                terminateHook: {
                  name: TERMINATE_HOOK,
                  heartbeatTimeout: g.terminateHook.heartbeatTimeoutSeconds,
                  defaultResult: g.terminateHook.defaultResult,
                },
              }
            : {}),
          // As the stack creates it: the join timeout and a margin, CONTINUE should node-manager be down.
          ...(g.launchHook
            ? {
                launchHook: {
                  name: LAUNCH_HOOK,
                  heartbeatTimeout: launchHookTimeoutSeconds(g.joinTimeoutSeconds),
                  defaultResult: 'CONTINUE' as const,
                },
              }
            : {}),
        }),
      );
    }
    for (const w of scenario.workloads) {
      sim.addWorkload({
        name: w.name,
        namespace: w.namespace,
        nodeGroup: w.group,
        replicas: w.replicas,
        kind: w.kind,
        pdb: w.pdb,
        emptyDir: w.emptyDir,
        terminationGracePeriodSeconds: w.terminationGracePeriodSeconds,
        ...(w.annotations ? { annotations: w.annotations } : {}),
        ...(w.requests ? { requests: w.requests } : {}),
      });
    }
    sim.createTable(LEASE_TABLE, 'group', TTL_ATTRIBUTE);
    // A snapshot's lease memory (the learned waits): what the group's next refresh starts from.
    for (const g of scenario.groups)
      if (g.memory)
        sim.tables
          .table(LEASE_TABLE)!
          .items.set(g.name, { group: { S: g.name }, memory: { S: JSON.stringify(g.memory) } });
    const access =
      scenario.cluster.kind === 'eks'
        ? { kind: 'eks' as const, clusterName: scenario.cluster.name }
        : { kind: 'kubeconfig' as const, secretId: KUBECONFIG_SECRET };
    if (scenario.cluster.kind === 'eks') sim.registerEksCluster(scenario.cluster.name);
    else sim.putSecret(KUBECONFIG_SECRET, sim.kubeconfig());
    const config: Config = parseConfig({
      cluster: { name: scenario.cluster.name.replace(/[^A-Za-z0-9._-]/g, '-'), region: scenario.region, access },
      leaseTable: LEASE_TABLE,
      ...(options.historyEventBudget !== undefined ? { historyEventBudget: options.historyEventBudget } : {}),
      groups: scenario.groups.map((g) => ({
        name: g.name,
        role: g.role,
        asgNames: asgNames.get(g.name),
        desiredReady: g.desiredReady,
        surplus: g.role === 'control-plane' ? 0 : g.surplus,
        drainTimeoutSeconds: g.drainTimeoutSeconds,
        joinTimeoutSeconds: g.joinTimeoutSeconds,
        cooldownSeconds: g.cooldownSeconds,
        ...(g.terminateHook
          ? {
              terminateHook: {
                heartbeatTimeoutSeconds: g.terminateHook.heartbeatTimeoutSeconds,
                maxHeartbeats: g.terminateHook.maxHeartbeats,
              },
            }
          : {}),
        launchHook: g.launchHook,
        drain: g.drain,
        settleSeconds: g.settleSeconds,
        notReadyTimeoutSeconds: g.notReadyTimeoutSeconds,
        repairMaxUnhealthy: g.repairMaxUnhealthy,
        ...(g.alarms ? { alarms: g.alarms } : {}),
        ...(g.maintenanceWindows ? { maintenanceWindows: g.maintenanceWindows } : {}),
        ...(g.replace ? { replace: g.replace } : {}),
        ...(g.maxNodeAgeDays !== undefined ? { maxNodeAgeDays: g.maxNodeAgeDays } : {}),
        ...(g.checkpoints ? { checkpoints: g.checkpoints } : {}),
      })),
    });
    // The stack's alarm topic, which the summaries reach too (lib/alarms.ts).
    const topicArn = `arn:aws:sns:${sim.region.name}:${SIM_ACCOUNT}:node-manager-${config.cluster.name}-alarms`;
    sim.topics.set(topicArn, []);
    const runner = new WorkflowRunner(sim, { ...config, summaryTopic: topicArn });
    const stack = nodeManagerStack({
      clusterName: config.cluster.name,
      region: sim.region.name,
      account: SIM_ACCOUNT,
      createdAt: sim.now(),
      stateMachineArns: {
        refresh: runner.stateMachineArn('refresh'),
        replenish: runner.stateMachineArn('replenish'),
        interruption: runner.stateMachineArn('interruption'),
      },
      leaseTable: LEASE_TABLE,
      alarmTopic: topicArn,
      groups: operatorGroups(config.groups),
    });
    sim.stacks.set(stack.stackName, stack);
    if (options.serve) {
      runner.scheduler.pace = { speed: options.serve.speed, tickMs: 100 };
      options.serve.onStart?.(sim);
    }

    const minReady = new Map<string, number>();
    const maxLeaving = new Map<string, number>();
    // A quarantined node (in Standby, or out of it on its way to termination by replenish) is already
    // replaced: not a batch's. The group's lease memory names it until it is gone.
    const quarantinedOf = (group: string): Record<string, unknown> => {
      const memory = sim.tables.table(LEASE_TABLE)?.items.get(group)?.memory?.S;
      return memory ? ((JSON.parse(memory) as { quarantined?: Record<string, unknown> }).quarantined ?? {}) : {};
    };
    const standby = (id: string) => (sim.region.instances.get(id)?.asgLifecycle ?? '').includes('Standby');
    const leavingOf = (group: string) => {
      const leaving = [...sim.cluster.nodes.values()].filter(
        (n) =>
          n.nodeGroup === group &&
          !standby(n.instanceId) &&
          (n.unschedulable ||
            ['shutting-down', 'terminated'].includes(sim.region.instances.get(n.instanceId)?.state ?? '')),
      );
      if (leaving.length <= 1) return leaving.length;
      const quarantined = quarantinedOf(group);
      return leaving.filter((n) => quarantined[n.instanceId] === undefined).length;
    };
    const timelines = new Map<string, Array<[number, number]>>(scenario.groups.map((g) => [g.name, []]));
    const readyOf = (group: string) =>
      [...sim.cluster.nodes.values()].filter((n) => n.nodeGroup === group && n.ready).length;
    const lives = new LifeRecorder(sim, start);
    const sample = () => {
      lives.sample();
      for (const g of scenario.groups) {
        const ready = readyOf(g.name);
        minReady.set(g.name, Math.min(minReady.get(g.name) ?? Number.POSITIVE_INFINITY, ready));
        maxLeaving.set(g.name, Math.max(maxLeaving.get(g.name) ?? 0, leavingOf(g.name)));
        const tl = timelines.get(g.name)!;
        if (tl.length === 0 || tl[tl.length - 1][1] !== ready) tl.push([(sim.now() - start) / 1000, ready]);
      }
    };
    sample();
    runner.scheduler.onTick = sample;
    runner.afterStep = sample;

    const end = start + scenario.until * 1000;
    const faultsFired: Array<{ at: number; fault: Scenario['faults'][number] }> = [];
    armFaults(sim, runner, scenario, start, end, faultsFired);
    armRuns(sim, runner, scenario, asgNames, start, end);
    options.onReady?.(sim, runner);

    await runner.scheduler.runUntil(end);
    await runner.shutdown();

    const report = buildReport(sim, runner, scenario, {
      start,
      end,
      asgNames,
      minReady,
      maxLeaving,
      timelines,
      faultsFired,
      readyOf,
      lives: lives.all(),
    });
    return { report, runner, sim, start };
  } finally {
    if (!options.serve) await sim.stop();
  }
}
