import type { Report } from './report';

/** hh:mm:ss of a number of seconds. */
export function hms(seconds: number): string {
  const s = Math.round(seconds);
  return [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60].map((n) => String(n).padStart(2, '0')).join(':');
}

type Step = Report['timeline'][number];

const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
/** What a polling step said, without what changes on every poll (ages, seconds left). */
const gist = (v: unknown) =>
  JSON.stringify(v, (k, x: unknown) => (k === 'ageSeconds' || k === 'secondsLeft' ? undefined : x));
const mark = (o: string) => (o === 'ok' ? ' ' : o === 'retry' ? '↻' : '✗');
const workflowOf = (execution: string) => execution.replace(/-\d+$/, '');
/** How far back an execution's twin may have been shown for it to be folded. */
const FOLD_WITHIN_SECONDS = 1800;

/** One step's line: time, a mark (↻ retried, ✗ failed), execution, state, and its whole output. */
export function stepLine(t: Step, times = ''): string {
  return `${hms(t.at)} ${mark(t.outcome)} ${t.execution.padEnd(12)} ${t.state}${times}  ${text(t.output)}`;
}

/**
 * The run as a person reads it: each step's whole output, the faults where they fired, the
 * consecutive identical polls of a step folded into one line with a count, and an execution that
 * did exactly what one shown in the last half hour of its workflow did (an idle replenish pass)
 * folded likewise, with a count, until an execution that did something else.
 */
export function storyLines(report: Report): string[] {
  const byExecution = new Map<string, Step[]>();
  for (const t of report.timeline) byExecution.set(t.execution, [...(byExecution.get(t.execution) ?? []), t]);
  const signature = (steps: readonly Step[]) =>
    steps.map((t) => `${t.state}|${t.outcome}|${gist(t.output)}`).join('\n');
  // An execution that did what one shown in the last half hour of its workflow did is folded away.
  const shownAt = new Map<string, number>();
  const folded = new Map<string, { count: number; last: number; first: string }>();
  const hidden = new Set<string>();
  for (const [execution, steps] of byExecution) {
    const sig = `${workflowOf(execution)}\n${signature(steps)}`;
    const at = steps[0].at;
    const seen = shownAt.get(sig);
    if (seen !== undefined && at - seen <= FOLD_WITHIN_SECONDS) hidden.add(execution);
    else shownAt.set(sig, at);
  }
  const lines: string[] = [];
  const flush = (w: string) => {
    const f = folded.get(w);
    if (!f) return;
    lines.push(
      `${hms(f.last)}   … ${f.count} more ${w} execution(s) doing what one shown above did, ${f.first} to the one at ${hms(f.last)}`,
    );
    folded.delete(w);
  };
  const events: Array<{ at: number; line?: Step; fault?: Report['faults'][number] }> = [
    ...report.timeline.map((line) => ({ at: line.at, line })),
    ...report.faults.map((fault) => ({ at: fault.at, fault })),
  ].sort((a, b) => a.at - b.at);
  for (let i = 0; i < events.length; i += 1) {
    const e = events[i];
    if (e.fault) {
      const { kind, ...rest } = e.fault.fault as { kind: string; at?: number };
      delete rest.at;
      lines.push(`${hms(e.at)} ⚡ fault ${kind} ${JSON.stringify(rest)}`);
      continue;
    }
    const t = e.line!;
    const w = workflowOf(t.execution);
    if (hidden.has(t.execution)) {
      const f = folded.get(w) ?? { count: 0, last: t.at, first: t.execution };
      if (byExecution.get(t.execution)![0] === t) f.count += 1;
      f.last = t.at;
      folded.set(w, f);
      continue;
    }
    flush(w);
    let j = i;
    while (
      j + 1 < events.length &&
      events[j + 1].line?.execution === t.execution &&
      events[j + 1].line?.state === t.state &&
      events[j + 1].line?.outcome === t.outcome &&
      gist(events[j + 1].line?.output) === gist(t.output)
    )
      j += 1;
    const times = j > i ? ` (×${j - i + 1} until ${hms(events[j].at)})` : '';
    lines.push(stepLine(t, times));
    i = j;
  }
  for (const w of [...folded.keys()]) flush(w);
  return lines;
}
