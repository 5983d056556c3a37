// Canary: while one runs, the two versions, the weight step, what the last check could see (each
// metric's smallest detectable regression, and checks to go until the smallest one that counts is
// visible, or that there is no traffic), a timeline of checks with each metric's verdict and reason,
// and Abort; afterwards the decision with Show Report.
import type { CanaryCheck, CanarySummary } from '../../../common/api.js';
import { sightLines } from './canarySight.js';
import { fill, h } from '../dom.js';
import type { PanelContext, Section } from '../panelContext.js';
import { button } from './controls.js';

const VERDICT_MARK = { pass: '✓', fail: '✗', inconclusive: '?' } as const;

export function canarySection(): Section {
  const body = h('div');
  let shown = '';
  return {
    id: 'canary',
    title: 'Canary',
    body,
    summary: (ctx) => {
      const c = current(ctx);
      return c ? (c.state === 'running' ? `${c.model} ${c.baseline}→${c.candidate} at ${c.weight}%` : c.state.replace('_', ' ')) : 'none';
    },
    update(ctx) {
      const c = current(ctx);
      const key = c ? `${c.id}:${c.state}:${c.check_count}:${c.weight}` : 'none';
      if (key === shown) return;
      shown = key;
      if (!c) {
        fill(body, h('p', { class: 'muted', 'data-canary': 'none' }, 'No canary in the last hour. Start one with “Inferscope: Evaluate Canary…”.'));
        return;
      }
      const running = c.state === 'running';
      fill(
        body,
        h(
          'p',
          { class: `canary-head canary-${c.state}`, 'data-canary': c.state },
          `${c.model}: version ${c.baseline} → ${c.candidate}, `,
          running ? `step ${c.step + 1} of ${c.steps.length} at ${c.weight}% candidate traffic` : decision(c),
        ),
        h('ol', { class: 'steps', 'aria-label': 'Weight steps' }, ...c.steps.map((w, i) => h('li', { class: i < c.step ? 'done' : i === c.step && running ? 'current' : '' }, `${w}%`))),
        running ? sight(c.recent_checks?.at(-1)) : null,
        h(
          'ol',
          { class: 'timeline', 'aria-label': 'Checks' },
          ...(c.recent_checks ?? []) // none from an agent older than the summaries
            .slice(-12)
            .reverse()
            .map((check) =>
              h(
                'li',
                {},
                h('span', { class: 'check-head' }, `${new Date(check.at).toLocaleTimeString()} · ${check.weight}% · ${check.decision.replace('_', ' ')}`),
                h('ul', {}, ...check.metrics.map((m) => h('li', { class: `verdict verdict-${m.verdict}` }, `${VERDICT_MARK[m.verdict]} ${m.name}: ${m.reason}`))),
              ),
            ),
        ),
        h(
          'div',
          { class: 'actions' },
          running ? button('Abort', `canary-abort:${c.id}`, () => ctx.act({ kind: 'abortCanary', id: c.id })) : null,
          button('Show Report', `canary-report:${c.id}`, () => ctx.act({ kind: 'showCanaryReport', id: c.id }), running),
        ),
      );
    },
  };
}

function sight(check: CanaryCheck | undefined) {
  const lines = sightLines(check);
  if (!lines.length) return null;
  return h('ul', { class: 'canary-sight', 'aria-label': 'What the last check could see', 'data-canary-sight': '' }, ...lines.map((l) => h('li', { class: 'muted' }, l)));
}

function current(ctx: PanelContext): CanarySummary | undefined {
  const all = ctx.state.status?.canaries ?? [];
  return all.find((c) => c.state === 'running') ?? [...all].sort((a, b) => (a.started_at < b.started_at ? 1 : -1))[0];
}

function decision(c: CanarySummary): string {
  const what = c.state === 'promoted' ? `promoted version ${c.candidate}` : c.state === 'rolled_back' ? `rolled back to version ${c.baseline}` : 'aborted';
  return `${what}${c.reason ? ` — ${c.reason}` : ''}`;
}
