import { StateMachine } from 'aws-local-stepfunctions';
import type { Config } from '../../lambdas/config';
import { gate, type GateOutcome } from '../../lambdas/interruption/gate';
import { makeDeps, type Deps } from '../../lambdas/runtime';
import type { EmfOutput } from '../../lambdas/aws/metrics';
import { Scheduler } from './scheduler';
import { DISPATCH, LAMBDA_BASE_MS, LAMBDA_PER_CALL_MS, LambdaError, REAL_TASK_TIMEOUT_SECONDS } from './lambda';
import type { VirtualClock } from '../clock';
import type { StepFunctionsModel } from '../aws/executions';
import type { Invocation, InvocationContext } from './context';
import { WORKFLOWS, type Workflow } from '../../lambdas/workflows';
import { ACCOUNT, loadDefinition, retryBackoff, secondsAt, type AslDefinition } from './asl';
import { newRecord, type ExecutionRecord, type ExecutionStatus, type StepCrash, type TimelineEntry } from './records';

export type { Workflow } from '../../lambdas/workflows';
export type { ExecutionRecord, ExecutionStatus, StepCrash, TimelineEntry } from './records';

/** What the runner needs of the simulator: the clock, who is calling, the executions, the region's name. */
export interface RunnerHost {
  readonly clock: VirtualClock;
  readonly meter: { readonly context: InvocationContext };
  readonly stepFunctions: StepFunctionsModel;
  readonly region: { readonly name: string };
  now(): number;
}

/**
 * Runs the workflows' ASL files with `aws-local-stepfunctions`, every Task routed to the real
 * handler (as the Lambda function would run it) against the simulator, on virtual time: Waits and
 * Retry back-offs sleep in virtual time, so hours pass in milliseconds and concurrent executions
 * interleave as they would.
 */
export class WorkflowRunner {
  readonly scheduler: Scheduler;
  readonly executions: ExecutionRecord[] = [];
  readonly timeline: TimelineEntry[] = [];
  readonly stepCrashes: StepCrash[] = [];
  readonly deps: Deps;
  /** The EMF records the functions published (lambdas/aws/metrics.ts), as CloudWatch Logs would receive them. */
  readonly emf: EmfOutput[] = [];
  /** The interruption gate's invocations (a Lambda of its own in front of the workflow): what each said, and what they were billed. */
  readonly gate = {
    invocations: 0,
    billedMs: 0,
    outcomes: [] as Array<{ at: number; event: string; outcome: GateOutcome }>,
    deadLettered: [] as Array<{ at: number; event: string; error: string }>,
  };
  /** Called after every step (to sample Ready counts between a change and the next tick of time). */
  afterStep: () => void = () => undefined;
  private readonly definitions = new Map<Workflow, AslDefinition>();
  /** Set once the scenario's `until` is reached: executions aborted from then on stay RUNNING. */
  private cutOff = false;
  private counter = 0;

  constructor(
    private readonly sim: RunnerHost,
    config: Config,
  ) {
    this.scheduler = new Scheduler(sim.clock);
    this.registerStateMachines();
    this.deps = makeDeps(
      config,
      () => sim.now(),
      // A step's own short waits sleep its execution on virtual time, and are billed.
      async (ms) => {
        const inv = sim.meter.context.current();
        if (!inv?.owner) throw new Error('sleep outside an invocation');
        inv.sleptMs = (inv.sleptMs ?? 0) + ms;
        await this.scheduler.sleepUntil(inv.owner, sim.now() + ms, true);
      },
      (record) => this.emf.push(record),
    );
  }

  /** The workflows StartExecution may name, and how it starts one (the simulated Step Functions calls back here). */
  private registerStateMachines(): void {
    for (const w of WORKFLOWS) this.sim.stepFunctions.stateMachines.add(this.stateMachineArn(w));
    this.sim.stepFunctions.onStart = (arn, name, input) => {
      const workflow = WORKFLOWS.find((w) => this.stateMachineArn(w) === arn)!;
      return this.sim.stepFunctions.executions.get(this.start(workflow, input, name).arn)!;
    };
    this.sim.stepFunctions.onStop = (arn, error, cause) => {
      const record = this.executions.find((e) => e.arn === arn);
      if (record) this.stop(record, 'ABORTED', error ?? null, cause ?? null);
    };
    this.sim.stepFunctions.definitionOf = (arn) =>
      JSON.stringify(this.definition(WORKFLOWS.find((w) => this.stateMachineArn(w) === arn)!));
  }

  /**
   * Runs something outside every execution that calls AWS (the gate, an operator's call) as one
   * actor of the scheduler: virtual time stands still until it is done, as it does for a step.
   */
  async external<T>(owner: string, fn: () => Promise<T>): Promise<T> {
    this.scheduler.begin();
    try {
      return await fn();
    } finally {
      this.scheduler.end(owner);
    }
  }

  /**
   * The gate's Lambda invocation for one EventBridge event (lambdas/interruption/gate.ts): billed
   * as any invocation (a base and each call), counted apart from the executions it starts. An
   * asynchronous invocation that fails is tried twice more by Lambda (about a minute, then two,
   * later), then goes to the function's dead-letter queue.
   */
  async invokeGate(event: { readonly id?: string }, attempt = 1): Promise<GateOutcome | undefined> {
    const owner = `gate-${++this.counter}`;
    try {
      return await this.external(owner, async () => {
        const inv: Invocation = { execution: 'gate', state: 'gate', calls: 0 };
        this.gate.invocations += 1;
        try {
          const outcome = await this.sim.meter.context.run(inv, () =>
            gate(event, {
              config: this.deps.config,
              autoscaling: this.deps.autoscaling,
              sfn: this.deps.sfn,
              stateMachineArn: this.stateMachineArn('interruption'),
            }),
          );
          this.gate.outcomes.push({ at: this.sim.now(), event: event.id ?? '', outcome });
          return outcome;
        } finally {
          this.gate.billedMs += LAMBDA_BASE_MS + LAMBDA_PER_CALL_MS * inv.calls;
        }
      });
    } catch (e) {
      if (attempt < 3) this.sim.clock.after(attempt * 60, 'gate retry', () => void this.invokeGate(event, attempt + 1));
      else
        this.gate.deadLettered.push({
          at: this.sim.now(),
          event: event.id ?? '',
          error: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
        });
      return undefined;
    }
  }

  stateMachineArn(workflow: Workflow): string {
    return `arn:aws:states:${this.sim.region.name}:${ACCOUNT}:stateMachine:node-manager-${workflow}`;
  }

  private definition(workflow: Workflow): AslDefinition {
    let d = this.definitions.get(workflow);
    if (!d) {
      const fn = (name: string) => `arn:aws:lambda:${this.sim.region.name}:${ACCOUNT}:function:node-manager-${name}`;
      d = loadDefinition(workflow, {
        RefreshFunctionArn: fn('refresh'),
        ReplenishFunctionArn: fn('replenish'),
        InterruptionFunctionArn: fn('interruption'),
      });
      this.definitions.set(workflow, d);
    }
    return d;
  }

  private readonly machines = new Map<Workflow, { machine: StateMachine; timeoutSeconds?: number }>();

  /**
   * One interpreter per workflow, built once: building one validates the definition (a JSON Schema
   * compiled anew each time), which the ASL tests do already.
   */
  private machine(workflow: Workflow): { machine: StateMachine; timeoutSeconds?: number } {
    let m = this.machines.get(workflow);
    if (!m) {
      const def = this.definition(workflow);
      // The interpreter's own TimeoutSeconds is a real timer; the runner enforces it in virtual time instead.
      const { TimeoutSeconds: timeoutSeconds, ...interpreted } = def;
      // So is its default Task timeout (60 s of real time), which Step Functions does not have: a
      // Task without TimeoutSeconds runs as long as its Lambda function may. Lift it out of reach.
      interpreted.States = Object.fromEntries(
        Object.entries(def.States).map(([k, v]) => [
          k,
          v.Type === 'Task' && v.TimeoutSeconds === undefined ? { ...v, TimeoutSeconds: REAL_TASK_TIMEOUT_SECONDS } : v,
        ]),
      );
      m = {
        machine: new StateMachine(interpreted as never, { validationOptions: { checkPaths: false } }),
        timeoutSeconds,
      };
      this.machines.set(workflow, m);
    }
    return m;
  }

  /** Starts an execution now (virtual time); it runs as the scheduler lets it. */
  start(workflow: Workflow, input: unknown, name?: string): ExecutionRecord {
    const def = this.definition(workflow);
    const execName = name ?? `${workflow}-${String(++this.counter).padStart(3, '0')}`;
    const smArn = this.stateMachineArn(workflow);
    const sfnExec = this.sim.stepFunctions.start(smArn, execName, input);
    const { machine, timeoutSeconds } = this.machine(workflow);
    const record = newRecord(workflow, execName, sfnExec.executionArn, input, this.sim.now());
    let pendingWake: number | undefined;
    const attempts = new Map<string, number[]>();
    let lastState = '';
    let lastOutput: unknown;

    const waitOverrides = new Proxy({} as Record<string, number>, {
      get: (_t, stateName: string) => {
        const st = def.States[stateName];
        const seconds =
          st?.SecondsPath !== undefined ? secondsAt(lastOutput, st.SecondsPath, stateName) : (st?.Seconds ?? 0);
        pendingWake = this.sim.now() + seconds * 1000;
        return 0;
      },
    });
    const retryOverrides = new Proxy({} as Record<string, number>, { get: () => 0 });
    const handlers = new Proxy({} as Record<string, (input: unknown) => Promise<unknown>>, {
      get: (_t, stateName: string) => async (input: unknown) => {
        if (pendingWake !== undefined) {
          const at = pendingWake;
          pendingWake = undefined;
          await this.scheduler.sleepUntil(record.arn, at);
        }
        if (record.status !== 'RUNNING') throw new LambdaError('States.Runtime', 'execution no longer running');
        if (timeoutSeconds !== undefined && this.sim.now() - record.startedAt > timeoutSeconds * 1000) {
          this.finish(record, 'TIMED_OUT', 'States.Timeout', `execution exceeded ${timeoutSeconds}s`);
          record.abort?.();
          throw new LambdaError('States.Timeout', 'timed out');
        }
        if (stateName !== lastState) attempts.clear();
        lastState = stateName;
        const state = def.States[stateName];
        record.lambdaInvocations += 1;
        const inv: Invocation = { execution: record.name, state: stateName, calls: 0, owner: record.arn };
        try {
          const out =
            state.Resource === 'arn:aws:states:::states:startExecution'
              ? this.continueAs(record, input)
              : await this.sim.meter.context.run(inv, () => this.invoke(workflow, this.asService(input, record)));
          const crash = this.stepCrashes.find((c) => c.state === stateName && c.times > 0 && this.sim.now() >= c.from);
          if (crash) {
            crash.times -= 1;
            throw new LambdaError(
              'Runtime.ExitError',
              `RequestId: simulated Error: Runtime exited with error: signal: killed (after ${stateName} did its work)`,
            );
          }
          lastOutput = out;
          this.note(record, stateName, 'ok', (out as { did?: unknown }).did ?? out, out);
          return out;
        } catch (e) {
          const err =
            e instanceof LambdaError
              ? e
              : new LambdaError(e instanceof Error ? e.name : 'Error', e instanceof Error ? e.message : String(e));
          const backoff = retryBackoff(state, err.name, attempts);
          this.note(record, stateName, backoff !== undefined ? 'retry' : 'error', `${err.name}: ${err.message}`);
          if (backoff !== undefined) pendingWake = this.sim.now() + backoff * 1000;
          throw err;
        } finally {
          // Only this invocation's own calls: others made while it waited are theirs.
          record.lambdaBilledMs += LAMBDA_BASE_MS + LAMBDA_PER_CALL_MS * inv.calls + (inv.sleptMs ?? 0);
          this.afterStep();
        }
      },
    });

    const execution = machine.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: handlers as never,
        waitTimeOverrides: waitOverrides,
        retryIntervalOverrides: retryOverrides,
      },
      noThrowOnAbort: true,
      context: {
        Execution: { Id: record.arn, Name: execName },
        StateMachine: { Id: smArn, Name: `node-manager-${workflow}` },
      },
    });
    record.abort = execution.abort;
    this.scheduler.begin();
    const events = (async () => {
      for await (const ev of execution.eventLogs) {
        if (ev.type === 'StateEntered') {
          record.transitions += 1;
          record.stateCounts[ev.state.name] = (record.stateCounts[ev.state.name] ?? 0) + 1;
        }
        if (ev.type === 'StateRetried') record.transitions += 1;
        if (
          ev.type === 'ExecutionSucceeded' ||
          ev.type === 'ExecutionFailed' ||
          ev.type === 'ExecutionAborted' ||
          ev.type === 'ExecutionTimeout'
        )
          break;
      }
    })();
    record.done = (async () => {
      try {
        const output = await execution.result;
        // Aborted because the scenario's time is up: it is still running as far as anyone can tell.
        if (record.status === 'RUNNING' && !this.cutOff) {
          record.output = output;
          this.finish(record, 'SUCCEEDED', null, null);
        }
      } catch (e) {
        const cause = (e as { cause?: { name?: string; message?: string; cause?: unknown } }).cause;
        if (record.status === 'RUNNING' && !this.cutOff)
          this.finish(
            record,
            'FAILED',
            cause?.name ?? (e as Error).name,
            typeof cause?.cause === 'string' ? cause.cause : (cause?.message ?? (e as Error).message),
          );
      } finally {
        await Promise.race([events, new Promise((r) => setImmediate(r))]);
        // Step Functions history: start + end, entered + exited per state, scheduled/started/ended per task attempt.
        record.historyEvents = 2 + 2 * record.transitions + 3 * record.lambdaInvocations;
        this.scheduler.end(record.arn);
      }
    })();
    this.executions.push(record);
    return record;
  }

  /**
   * Ends the scenario: executions still running stay RUNNING in the report, but their pending
   * sleeps end so that nothing (the interpreter's task timers) outlives the simulator.
   */
  async shutdown(): Promise<void> {
    const running = this.executions.filter((e) => e.status === 'RUNNING');
    this.cutOff = true;
    for (const e of running) e.abort?.();
    this.scheduler.cancelAll();
    await Promise.all(running.map((e) => e.done));
  }

  /** The Lambda function behind each workflow's Tasks. */
  private invoke(workflow: Workflow, event: unknown): Promise<unknown> {
    return DISPATCH[workflow](event as never, this.deps);
  }

  /** Stops a running execution, as StopExecution does. */
  stop(
    record: ExecutionRecord,
    status: 'ABORTED' = 'ABORTED',
    error: string | null = null,
    cause: string | null = null,
  ): void {
    if (record.status !== 'RUNNING') return;
    this.finish(record, status, error, cause);
    record.abort?.();
    this.scheduler.interrupt(record.arn);
  }

  private finish(record: ExecutionRecord, status: ExecutionStatus, error: string | null, cause: string | null): void {
    record.status = status;
    record.error = error;
    record.cause = cause;
    record.stoppedAt = this.sim.now();
    this.sim.stepFunctions.stop(record.arn, status, { output: record.output, error, cause });
  }

  /** The service fills in what the interpreter takes from the real clock: the execution's start time. */
  private asService(input: unknown, record: ExecutionRecord): unknown {
    const ev = input as { step?: string; start?: Record<string, unknown> };
    if (ev.step === 'validate' && ev.start)
      return { ...ev, start: { ...ev.start, startTime: new Date(record.startedAt).toISOString() } };
    return input;
  }

  private continueAs(record: ExecutionRecord, params: unknown): unknown {
    const p = params as { StateMachineArn: string; Input: Record<string, unknown> };
    const child = this.start(record.workflow, p.Input);
    record.continuedAs.push(child.name);
    return { ExecutionArn: child.arn, StartDate: new Date(this.sim.now()).toISOString() };
  }

  /** A step's outcome: on the timeline (its `did`), and in the execution's history (its whole output). */
  private note(
    record: ExecutionRecord,
    state: string,
    outcome: TimelineEntry['outcome'],
    summary: unknown,
    output: unknown = summary,
  ): void {
    this.timeline.push({ at: this.sim.now(), execution: record.name, state, outcome, summary });
    this.sim.stepFunctions.noteStep(record.arn, {
      state,
      outcome,
      result: typeof output === 'string' ? output : JSON.stringify(output),
    });
  }
}
