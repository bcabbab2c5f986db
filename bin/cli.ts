/**
 * The `node-manager` CLI (the package's bin; `npm run -s cli -- <command>` in a clone): status,
 * refresh, pause, resume and history of a deployed node-manager. `--help` lists them.
 */
import { runCli } from '../cli/program';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
runCli(process.argv.slice(2), {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
  env: process.env,
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  now: () => Date.now(),
}).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`node-manager: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
