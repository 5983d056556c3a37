// The panel while the agent is not ready: one compact state instead of every section empty — what
// the agent is doing (starting, stopped, crashed, down, with Start / Show Log), and the canaries
// that ended before it went away, each with Show Report.
import type { CanarySummary } from '../../../common/api.js';
import { fill, h } from '../dom.js';
import type { PanelContext } from '../panelContext.js';
import { button } from './controls.js';

/** One past canary as the down state lists it. */
export function pastCanaryLine(c: CanarySummary): string {
  const what = c.state === 'promoted' ? `promoted version ${c.candidate}` : c.state === 'rolled_back' ? `rolled back to version ${c.baseline}` : c.state === 'aborted' ? 'aborted' : c.state;
  return `${c.model} ${c.baseline} → ${c.candidate}: ${what}`;
}

export function downState(): { element: HTMLElement; update(ctx: PanelContext): void; clear(): void } {
  const element = h('section', { class: 'down-state', 'data-down-state': '', 'aria-label': 'Agent' });
  let shown = '';
  return {
    element,
    /** The agent is ready: nothing of the down state stays in the page (tests read `[data-agent]`). */
    clear() {
      if (!shown) return;
      shown = '';
      fill(element);
    },
    update(ctx) {
      const { phase, message, remote } = ctx.state.agent;
      const past = ctx.state.pastCanaries ?? [];
      const key = JSON.stringify([phase, message, remote, past.map((c) => c.id)]);
      if (key === shown) return;
      shown = key;
      const where = remote ? ` (${remote})` : '';
      const what =
        phase === 'starting'
          ? `Agent ${remote ? 'connecting' : 'starting'}…${where}`
          : phase === 'crashed'
            ? `Agent crashed — restarting. ${message ?? ''}`
            : phase === 'failed'
              ? `Agent down${where}: ${message ?? ''}`
              : `Agent not running${where}`;
      fill(
        element,
        h('p', { class: `agent-state agent-${phase}`, 'data-agent': phase }, what),
        h(
          'div',
          { class: 'actions' },
          phase === 'starting' ? null : button('Start', 'start-agent', () => ctx.act({ kind: 'startAgent' })),
          phase === 'failed' || phase === 'crashed' ? button('Show Log', 'show-log', () => ctx.act({ kind: 'showLog' }), true) : null,
        ),
        h('p', { class: 'muted' }, phase === 'starting' ? 'Charts, breakers and canaries appear once it is ready.' : 'Charts, breakers and canaries appear while the agent runs.'),
        past.length
          ? h(
              'div',
              { class: 'past-canaries' },
              h('h3', {}, 'Past canaries'),
              h(
                'ul',
                { 'aria-label': 'Past canaries' },
                ...past.map((c) =>
                  h(
                    'li',
                    { 'data-past-canary': c.id },
                    h('span', {}, `${pastCanaryLine(c)} `),
                    h('span', { class: 'muted' }, new Date(c.started_at).toLocaleTimeString()),
                    ' ',
                    button('Show Report', `past-canary-report:${c.id}`, () => ctx.act({ kind: 'showCanaryReport', id: c.id }), true),
                  ),
                ),
              ),
            )
          : null,
      );
    },
  };
}
