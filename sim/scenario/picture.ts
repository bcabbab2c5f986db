import type { Phase } from './lives';
import type { Report } from './report';

/**
 * The picture of a run (`npm run simulate -- --timeline out.svg`): each node's life per ASG
 * (booting, joining, Ready, cordoned, draining), each group's Ready nodes against desiredReady,
 * and the executions and faults on the same time axis. Drawn from the report alone, so what it
 * shows is what the report says (test/sim/picture.test.ts reads it back in Chromium).
 */

export const PHASE_COLOURS: Readonly<Record<Exclude<Phase, 'gone'>, string>> = {
  booting: '#c9d6e8',
  joining: '#8fb0d9',
  ready: '#3a9d5d',
  notReady: '#d9534f',
  cordoned: '#f0ad4e',
  draining: '#e07b39',
};
const WORKFLOW_COLOURS: Readonly<Record<string, string>> = {
  refresh: '#4a6fa5',
  replenish: '#6c8f3d',
  interruption: '#a5486f',
};

const WIDTH = 1200;
const LEFT = 280;
const RIGHT = 20;
const LANE = 9;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const clock = (s: number) => `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}`;

/** The run's span in seconds: everything the report places in time. */
function spanOf(r: Report): number {
  const times = [
    ...r.lives.flatMap((l) => l.phases.map(([t]) => t)),
    ...r.groups.flatMap((g) => g.readyTimeline.map(([t]) => t)),
    ...r.executions.map((e) => e.stoppedAt ?? e.startedAt),
    ...r.faults.map((f) => f.at),
    ...r.timeline.map((t) => t.at),
  ];
  return Math.max(60, ...times) * 1.02;
}

export function timelineSvg(r: Report): string {
  const span = spanOf(r);
  const x = (t: number) => LEFT + (Math.max(0, t) / span) * (WIDTH - LEFT - RIGHT);
  const out: string[] = [];
  let y = 40;
  const n = (count: number, one: string) => `${count} ${one}${count === 1 ? '' : 's'}`;
  const title = `${r.scenario}: ${n(r.lives.length, 'node')}, ${n(r.executions.length, 'execution')}, ${n(r.faults.length, 'fault')}`;
  out.push(`<text x="10" y="22" class="title">${esc(title)}</text>`);

  // Each node's life, lanes grouped by group and ASG.
  for (const g of r.groups) {
    const lives = r.lives.filter((l) => l.group === g.name);
    const asgs = [...new Set(lives.map((l) => l.asg))];
    out.push(`<text x="10" y="${y + 12}" class="group">group ${esc(g.name)}</text>`);
    y += 20;
    for (const asg of asgs) {
      out.push(`<text x="10" y="${y + 8}" class="asg">${esc(asg || '(no ASG)')}</text>`);
      for (const l of lives.filter((x) => x.asg === asg)) {
        const bars = l.phases.flatMap(([t, p], i) => {
          if (p === 'gone') return [];
          const until = l.phases[i + 1]?.[0] ?? span;
          const w = Math.max(1, x(until) - x(t));
          return [
            `<rect x="${x(t).toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${LANE - 2}" fill="${PHASE_COLOURS[p]}" ` +
              `class="phase ${p}"><title>${esc(`${l.node ?? l.instanceId}: ${p} from ${clock(t)}`)}</title></rect>`,
          ];
        });
        out.push(
          `<g class="life" data-instance="${l.instanceId}" data-node="${esc(l.node ?? '')}">` +
            `<text x="${LEFT - 6}" y="${y + LANE - 2}" class="node">${esc(l.node?.split('.')[0] ?? l.instanceId)}</text>` +
            `${bars.join('')}</g>`,
        );
        y += LANE;
      }
      y += 6;
    }
    // Ready against desired: a step line, the desired level dashed.
    const h = 60;
    const top = y + 6;
    const most = Math.max(g.desiredReady, ...g.readyTimeline.map(([, n]) => n), 1) + 1;
    const yOf = (n: number) => top + h - (n / most) * h;
    const pts: string[] = [];
    g.readyTimeline.forEach(([t, n], i) => {
      const next = g.readyTimeline[i + 1]?.[0] ?? span;
      pts.push(`${x(t).toFixed(1)},${yOf(n).toFixed(1)}`, `${x(next).toFixed(1)},${yOf(n).toFixed(1)}`);
    });
    out.push(
      `<g class="ready" data-group="${esc(g.name)}" data-min-ready="${g.minReady}" data-desired="${g.desiredReady}" ` +
        `data-top="${top}" data-height="${h}" data-most="${most}">` +
        `<text x="10" y="${top + 14}" class="label">Ready (least ${g.minReady}) against desired ${g.desiredReady}</text>` +
        `<text x="${LEFT - 6}" y="${top + 4}" class="axis">${most}</text>` +
        `<text x="${LEFT - 6}" y="${top + h}" class="axis">0</text>` +
        `<line x1="${LEFT}" x2="${LEFT}" y1="${top}" y2="${top + h}" class="axisline"/>` +
        `<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${yOf(g.desiredReady)}" y2="${yOf(g.desiredReady)}" class="desired"/>` +
        `<polyline points="${pts.join(' ')}" class="readyline"/></g>`,
    );
    y = top + h + 16;
  }

  // Executions, one lane per workflow, and faults.
  const workflows = [...new Set(r.executions.map((e) => e.workflow))];
  for (const w of workflows) {
    const runs = r.executions.filter((e) => e.workflow === w);
    out.push(`<text x="10" y="${y + 8}" class="label">${esc(w)} (${runs.length})</text>`);
    for (const e of runs) {
      const x0 = x(e.startedAt);
      const wd = Math.max(2, x(e.stoppedAt ?? span) - x0);
      const ended = e.stoppedAt !== null && e.stoppedAt !== undefined ? clock(e.stoppedAt) : 'running';
      const tip = `${e.name}: ${e.status}, ${clock(e.startedAt)}–${ended}`;
      out.push(
        `<rect x="${x0.toFixed(1)}" y="${y}" width="${wd.toFixed(1)}" height="${LANE}" ` +
          `fill="${WORKFLOW_COLOURS[w] ?? '#777'}" class="execution ${e.status}" data-name="${esc(e.name)}">` +
          `<title>${esc(tip)}</title></rect>`,
      );
    }
    y += LANE + 8;
  }
  out.push(`<text x="10" y="${y + 10}" class="label">faults (${r.faults.length})</text>`);
  for (const f of r.faults)
    out.push(
      `<text x="${x(f.at).toFixed(1)}" y="${y + 11}" class="fault" data-kind="${esc(f.kind)}">` +
        `⚡<title>${esc(`${clock(f.at)} ${f.kind}`)}</title></text>`,
    );
  y += 24;

  // The time axis, every tick a round number of minutes.
  const step = [60, 300, 600, 1800, 3600, 7200, 21600].find((s) => span / s <= 12) ?? 43200;
  for (let t = 0; t <= span; t += step)
    out.push(
      `<line x1="${x(t)}" x2="${x(t)}" y1="30" y2="${y}" class="tick"/>` +
        `<text x="${x(t)}" y="${y + 14}" class="time">${clock(t)}</text>`,
    );
  y += 24;
  const legend = Object.entries(PHASE_COLOURS).map(
    ([p, c], i) =>
      `<rect x="${10 + i * 110}" y="${y}" width="12" height="10" fill="${c}"/>` +
      `<text x="${26 + i * 110}" y="${y + 9}" class="legend">${p}</text>`,
  );
  out.push(...legend);
  y += 24;
  const style =
    'text{font:11px sans-serif;fill:#222}.title{font-size:14px;font-weight:bold}.group{font-weight:bold}' +
    '.node{text-anchor:end;font-size:8px}.asg{font-size:9px;fill:#555}.desired{stroke:#999;stroke-dasharray:4 3}' +
    '.readyline{fill:none;stroke:#3a9d5d;stroke-width:2}.tick{stroke:#eee}.time{text-anchor:middle;fill:#666}' +
    '.fault{font-size:12px;fill:#c00}.legend{font-size:10px}.axis{text-anchor:end;font-size:9px;fill:#666}' +
    '.axisline{stroke:#999}';
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}" ` +
    `data-nodes="${r.lives.length}" data-executions="${r.executions.length}">` +
    `<style>${style}</style><rect width="100%" height="100%" fill="#fff"/>${out.join('\n')}</svg>\n`
  );
}

/** The same picture in a page of its own. */
export function timelineHtml(r: Report): string {
  return (
    `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${esc(r.scenario)}: node-manager simulation</title></head>` +
    `<body style="margin:0">${timelineSvg(r)}</body></html>\n`
  );
}
