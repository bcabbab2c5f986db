import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export const run = promisify(execFile);

/** kubectl's output and exit code, with the given kubeconfig (never throws: a refusal is an answer). */
export async function kubectlWith(
  config: string,
  ...args: string[]
): Promise<{ out: string; err: string; code: number }> {
  try {
    const r = await run('kubectl', ['--kubeconfig', config, '--request-timeout=20s', ...args], { timeout: 120_000 });
    return { out: r.stdout, err: r.stderr, code: 0 };
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; code?: number };
    return { out: x.stdout ?? '', err: x.stderr ?? '', code: typeof x.code === 'number' ? x.code : 1 };
  }
}
