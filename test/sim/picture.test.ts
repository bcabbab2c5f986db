import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timelineHtml, timelineSvg } from '../../sim/scenario/picture';
import { parseScenario, runScenario, type Report } from '../../sim/scenario/run';

const SCENARIOS = join(__dirname, '..', '..', 'examples', 'scenarios');
const load = (name: string) => parseScenario(JSON.parse(readFileSync(join(SCENARIOS, `${name}.json`), 'utf8')));

/** Debian's Chromium (`.ci/run` installs it when missing). */
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/**
 * What the browser shows of the picture: read after layout by a script on a page that holds the
 * SVG, from the elements as Chromium parsed and laid them out (sizes on screen, points it parsed).
 */
const PROBE = `
<script>
  const seen = { lives: 0, drawnLives: 0, ready: [], executions: 0, faults: 0, width: 0, legend: [] };
  const svg = document.querySelector('svg');
  seen.width = svg.getBoundingClientRect().width;
  for (const g of document.querySelectorAll('g.life')) {
    seen.lives += 1;
    if ([...g.querySelectorAll('rect')].some((r) => r.getBoundingClientRect().width > 0)) seen.drawnLives += 1;
  }
  for (const g of document.querySelectorAll('g.ready')) {
    const top = Number(g.dataset.top), h = Number(g.dataset.height), most = Number(g.dataset.most);
    const ys = [...g.querySelector('polyline').points].map((p) => p.y);
    // The lowest point of the line, read back as a node count on the chart's own scale.
    const least = Math.round(((top + h - Math.max(...ys)) / h) * most);
    const desiredY = g.querySelector('line.desired').getBBox().y;
    seen.ready.push({ group: g.dataset.group, least, desired: Math.round(((top + h - desiredY) / h) * most),
      label: g.querySelector('text.label').textContent });
  }
  seen.executions = [...document.querySelectorAll('rect.execution')].filter((r) => r.getBoundingClientRect().width > 0).length;
  seen.faults = document.querySelectorAll('text.fault').length;
  seen.legend = [...document.querySelectorAll('text.legend')].map((t) => t.textContent);
  const pre = document.createElement('pre');
  pre.id = 'seen-result';
  pre.textContent = JSON.stringify(seen);
  document.body.append(pre);
</script>`;

interface Seen {
  lives: number;
  drawnLives: number;
  ready: Array<{ group: string; least: number; desired: number; label: string }>;
  executions: number;
  faults: number;
  width: number;
  legend: string[];
}

function showInChromium(report: Report): Seen {
  const dir = mkdtempSync(join(tmpdir(), 'node-manager-picture-'));
  const page = join(dir, 'page.html');
  writeFileSync(page, timelineHtml(report).replace('</body>', `${PROBE}</body>`));
  const run = spawnSync(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${join(dir, 'profile')}`,
      '--dump-dom',
      `file://${page}`,
    ],
    { encoding: 'utf8', timeout: 90_000 },
  );
  if (run.error) throw new Error(`${CHROMIUM} did not run (.ci/run installs Debian's chromium): ${run.error.message}`);
  const json = /<pre id="seen-result">([^<]*)<\/pre>/.exec(run.stdout)?.[1];
  if (!json) throw new Error(`Chromium showed no probe result; stderr: ${run.stderr.slice(-2000)}`);
  return JSON.parse(json.replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as Seen;
}

describe('the picture of a run (--timeline), as Chromium shows it', () => {
  it('a Spot reclaim: every node drawn, the least Ready and desired where the report says, every execution and fault', async () => {
    const { report } = await runScenario(load('spot-reclaim'));
    const seen = showInChromium(report);
    // Every instance the run had, each drawn with a visible bar.
    expect(report.lives.length).toBe(
      new Set([
        ...report.groups.flatMap((g) => g.members.map((m) => m.instanceId)),
        ...report.lives.map((l) => l.instanceId),
      ]).size,
    );
    expect(seen.lives).toBe(report.lives.length);
    expect(seen.drawnLives).toBe(report.lives.length);
    expect(seen.ready).toEqual(
      report.groups.map((g) => ({
        group: g.name,
        least: g.minReady,
        desired: g.desiredReady,
        label: `Ready (least ${g.minReady}) against desired ${g.desiredReady}`,
      })),
    );
    expect(report.groups.find((g) => g.name === 'nodes')!.minReady).toBeLessThan(6);
    expect(seen.executions).toBe(report.executions.length);
    expect(seen.faults).toBe(report.faults.length);
    expect(seen.faults).toBeGreaterThan(0);
    expect(seen.width).toBe(1200);
    expect(seen.legend).toEqual(['booting', 'joining', 'ready', 'notReady', 'cordoned', 'draining']);
    // A reclaimed node: drained, then gone; its replacement booted, joined and went Ready.
    const reclaimed = report.lives.find((l) => l.phases.some(([, p]) => p === 'draining'))!;
    expect(reclaimed.phases.map(([, p]) => p).slice(-2)).toEqual(['draining', 'gone']);
    expect(report.lives.some((l) => l.phases.map(([, p]) => p).join() === 'booting,joining,ready')).toBe(true);
  }, 120_000);

  it('the SVG stands alone (no script), and names what it draws', async () => {
    const { report } = await runScenario(load('kops-weekly'));
    const svg = timelineSvg(report);
    expect(svg).not.toMatch(/<script/);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg).toContain(`kops-weekly: ${report.lives.length} nodes, ${report.executions.length} execution`);
    // The README's picture is this run's: regenerate it with
    // `npm run -s simulate -- --timeline docs/timeline.svg` when the run changes.
    expect(readFileSync(join(__dirname, '..', '..', 'docs', 'timeline.svg'), 'utf8')).toBe(svg);
  });
});
