import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** `npx cdk synth` as an operator runs it: offline, no AWS credentials, bundling with the local esbuild. */
describe.each(['kops', 'eks'])('npx cdk synth -c config=examples/config/%s.json', (name) => {
  it('synthesizes, bundles the four functions (three workflows and the interruption gate) and passes cdk-nag', () => {
    const out = mkdtempSync(join(tmpdir(), 'nm-synth-'));
    const env = {
      ...process.env,
      CDK_DISABLE_VERSION_CHECK: 'true',
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_PROFILE: '',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    execFileSync(
      join(ROOT, 'node_modules', '.bin', 'cdk'),
      ['synth', '--no-notices', '--quiet', '-c', `config=examples/config/${name}.json`, '-o', out],
      { cwd: ROOT, env, stdio: 'pipe', timeout: 120_000 },
    );
    const template = readdirSync(out).find((f) => f.endsWith('.template.json'))!;
    const resources = Object.values(JSON.parse(readFileSync(join(out, template), 'utf8')).Resources) as Array<{
      Type: string;
      Properties: { Code?: { S3Key?: string } };
    }>;
    const functions = resources.filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions).toHaveLength(4);
    for (const f of functions) {
      const asset = f.Properties.Code!.S3Key!.replace(/\.zip$/, '');
      expect(existsSync(join(out, `asset.${asset}`, 'index.js'))).toBe(true);
    }
  }, 180_000);
});
