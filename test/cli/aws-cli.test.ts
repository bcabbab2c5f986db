import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runScenario } from '../../sim/scenario/run';
import { workerScenario } from '../fixtures';

const exec = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
/** The README's endpoint: `--serve`'s default port. */
const ENDPOINT = 'http://127.0.0.1:4566';
const SM = 'arn:aws:states:ap-northeast-1:123456789012:stateMachine:node-manager-refresh';

interface Result {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Any credentials, no pager, nothing of this machine's AWS configuration. */
const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  AWS_ACCESS_KEY_ID: 'x',
  AWS_SECRET_ACCESS_KEY: 'x',
  AWS_PAGER: '',
  AWS_CONFIG_FILE: '/nonexistent',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
  AWS_EC2_METADATA_DISABLED: 'true',
};

async function run(file: string, args: string[], e: Record<string, string | undefined> = env): Promise<Result> {
  try {
    const { stdout, stderr } = await exec(file, args, { env: e, encoding: 'utf8', timeout: 120_000 });
    return { code: 0, out: stdout, err: stderr };
  } catch (x) {
    const f = x as { code?: number; stdout?: string; stderr?: string; message: string };
    if (typeof f.code !== 'number')
      throw new Error(`${file}: ${f.message} (the tests need the AWS CLI: .ci/run installs Debian's awscli)`);
    return { code: f.code, out: f.stdout ?? '', err: f.stderr ?? '' };
  }
}
const aws = (...args: string[]) => run('aws', ['--endpoint-url', ENDPOINT, '--region', 'ap-northeast-1', ...args]);
const json = <T>(r: Result): T => {
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.err}`);
  return JSON.parse(r.out) as T;
};

/** The README's start-execution against the simulator, exactly as written there. */
const readmeCommand = () => {
  const line = readFileSync(join(ROOT, 'README.md'), 'utf8')
    .split('\n')
    .find(
      (l) =>
        l.startsWith(`AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x aws --endpoint-url ${ENDPOINT}`) &&
        l.includes('start-execution'),
    );
  if (!line) throw new Error('README: the served start-execution command is gone');
  return line;
};

describe('the real AWS CLI against the simulated AWS (`--serve`)', () => {
  const results = new Map<string, Result>();
  let instanceIds: string[] = [];
  let executionName = '';
  let finalStatus = '';

  beforeAll(async () => {
    const { sim } = await runScenario(
      workerScenario(
        'aws-cli',
        { perZone: 1, maxPerZone: 2, desiredReady: 3, surplus: 1 },
        { runs: [{ at: '30m', workflow: 'replenish', input: { group: 'nodes' } }], until: '1h' },
      ),
      {
        aws: { port: 4566 },
        onReady: (s, runner) => {
          s.clock.at(s.now() + 60_000, 'aws cli', () => {
            void runner.external('aws cli', async () => {
              instanceIds = [...s.region.instances.keys()].sort();
              results.set('list-state-machines', await aws('stepfunctions', 'list-state-machines'));
              results.set('asgs', await aws('autoscaling', 'describe-auto-scaling-groups'));
              results.set(
                'instances',
                await aws('ec2', 'describe-instances', '--filters', 'Name=instance-state-name,Values=running'),
              );
              results.set(
                'readme',
                await run('bash', ['-c', readmeCommand()], {
                  PATH: env.PATH,
                  HOME: env.HOME,
                  AWS_PAGER: '',
                  AWS_CONFIG_FILE: '/nonexistent',
                }),
              );
              const arn = json<{ executionArn: string }>(results.get('readme')!).executionArn;
              executionName = arn.split(':').pop()!;
              results.set('describe-running', await aws('stepfunctions', 'describe-execution', '--execution-arn', arn));
              results.set(
                'missing',
                await aws(
                  'stepfunctions',
                  'describe-execution',
                  '--execution-arn',
                  `${SM.replace(':stateMachine:', ':execution:')}:nope`,
                ),
              );
              results.set(
                'bad-asg-call',
                await aws(
                  'autoscaling',
                  'set-desired-capacity',
                  '--auto-scaling-group-name',
                  'nope',
                  '--desired-capacity',
                  '1',
                ),
              );
              // The node-manager CLI's own bin, without a region, then without credentials.
              const bin = join(ROOT, 'bin', 'node-manager-cli.js');
              results.set('cli-no-region', await run('node', [bin, '--endpoint-url', ENDPOINT, 'status'], env));
              results.set(
                'cli-no-credentials',
                await run('node', [bin, '--endpoint-url', ENDPOINT, '--region', 'ap-northeast-1', 'status'], {
                  PATH: env.PATH,
                  HOME: '/nonexistent',
                  AWS_CONFIG_FILE: '/nonexistent',
                  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
                  AWS_EC2_METADATA_DISABLED: 'true',
                }),
              );
              results.set(
                'cli-status',
                await run(
                  'node',
                  [bin, '--endpoint-url', ENDPOINT, '--region', 'ap-northeast-1', 'status', '--json'],
                  env,
                ),
              );
            });
          });
          s.clock.at(s.now() + 50 * 60_000, 'aws cli later', () => {
            void runner.external('aws cli later', async () => {
              const arn = `${SM.replace(':stateMachine:', ':execution:')}:${executionName}`;
              finalStatus = json<{ status: string }>(
                await aws('stepfunctions', 'describe-execution', '--execution-arn', arn),
              ).status;
              results.set(
                'history',
                await aws('stepfunctions', 'get-execution-history', '--execution-arn', arn, '--max-items', '3'),
              );
            });
          });
        },
      },
    );
    void sim;
  });

  it('lists the state machines and starts a refresh with the README command verbatim', () => {
    const machines = json<{ stateMachines: Array<{ name: string; type: string }> }>(
      results.get('list-state-machines')!,
    );
    expect(machines.stateMachines.map((m) => m.name)).toEqual([
      'node-manager-interruption',
      'node-manager-refresh',
      'node-manager-replenish',
    ]);
    expect(json<{ executionArn: string }>(results.get('readme')!).executionArn).toMatch(
      /^arn:aws:states:ap-northeast-1:123456789012:execution:node-manager-refresh:[0-9a-f-]{36}$/,
    );
    const running = json<{ status: string; input: string; startDate: string }>(results.get('describe-running')!);
    expect(running).toMatchObject({ status: 'RUNNING', input: '{"group":"nodes"}' });
    // AWS CLI v2 prints ISO 8601; v1 the epoch seconds of the wire.
    const start = running.startDate as unknown as string | number;
    expect(new Date(typeof start === 'number' ? start * 1000 : start).toISOString()).toBe('2026-11-01T00:01:00.000Z');
    expect(finalStatus).toBe('SUCCEEDED');
    const history = json<{ events: Array<{ type: string; stateEnteredEventDetails?: { name: string } }> }>(
      results.get('history')!,
    );
    expect(history.events.map((e) => e.type)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'TaskSucceeded']);
    expect(history.events[1].stateEnteredEventDetails?.name).toBe('Validate input');
  });

  it('describes the groups and instances as Auto Scaling and EC2 do', () => {
    const asgs = json<{
      AutoScalingGroups: Array<{
        AutoScalingGroupName: string;
        DesiredCapacity: number;
        Instances: Array<{ LifecycleState: string }>;
      }>;
    }>(results.get('asgs')!);
    expect(asgs.AutoScalingGroups.map((a) => a.AutoScalingGroupName)).toEqual([
      'nodes-ap-northeast-1a.example.k8s.local',
      'nodes-ap-northeast-1c.example.k8s.local',
      'nodes-ap-northeast-1d.example.k8s.local',
    ]);
    expect(asgs.AutoScalingGroups.every((a) => a.Instances.every((i) => i.LifecycleState === 'InService'))).toBe(true);
    const reservations = json<{
      Reservations: Array<{ Instances: Array<{ InstanceId: string; LaunchTime: string }> }>;
    }>(results.get('instances')!);
    expect(reservations.Reservations.flatMap((r) => r.Instances.map((i) => i.InstanceId)).sort()).toEqual(instanceIds);
  });

  it("answers errors in each service's words", () => {
    const missing = results.get('missing')!;
    expect(missing.code).not.toBe(0);
    expect(missing.err).toMatch(
      /\(ExecutionDoesNotExist\) when calling the DescribeExecution operation: Execution Does Not Exist/,
    );
    const bad = results.get('bad-asg-call')!;
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/\(ValidationError\) when calling the SetDesiredCapacity operation/);
  });

  it('the node-manager bin: status over the wire, and no region or no credentials named as such', () => {
    expect(JSON.parse(results.get('cli-status')!.out)).toEqual([expect.objectContaining({ group: 'nodes' })]);
    expect(results.get('cli-no-region')).toMatchObject({
      code: 1,
      err: expect.stringMatching(/^node-manager: no AWS region: pass --region/),
    });
    expect(results.get('cli-no-credentials')).toMatchObject({
      code: 1,
      err: expect.stringMatching(/^node-manager: no AWS credentials/),
    });
  });
});
