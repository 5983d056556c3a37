// Circuit breakers: one card per model version with its state (theme status colours), counters,
// when it opened and when it retries, and Reset / Open buttons. In the sidebar a closed breaker is
// one line (state and totals): the buttons it does not need are in the Models tree's menu.
import type { BreakerStatus } from '../../../common/api.js';
import { fill, h, setText } from '../dom.js';
import { condensedBreaker } from '../dashboardLayout.js';
import type { PanelContext, Section } from '../panelContext.js';
import { button } from './controls.js';

const STATE_TEXT: Record<BreakerStatus['state'], string> = { closed: 'closed', half_open: 'half-open', open: 'open' };

export function breakerSection(): Section {
  const body = h('div', { class: 'cards' });
  const cards = new Map<string, { card: HTMLElement; state: HTMLElement; details: HTMLElement; actions: HTMLElement; shown: string }>();
  return {
    id: 'breakers',
    title: 'Circuit breakers',
    body,
    summary: (ctx) => {
      const open = (ctx.state.status?.models ?? []).flatMap((m) => m.versions.filter((v) => v.breaker?.state === 'open')).length;
      return open ? `${open} open` : 'all closed';
    },
    update(ctx: PanelContext) {
      const seen = new Set<string>();
      for (const m of ctx.state.status?.models ?? []) {
        for (const v of m.versions) {
          const b = v.breaker;
          if (!b) continue;
          const key = `${m.name}/${v.version}`;
          seen.add(key);
          let c = cards.get(key);
          if (!c) {
            const state = h('span', { class: 'chip' });
            const details = h('dl', { class: 'values' });
            const actions = h('div', { class: 'actions' });
            const card = h('section', { class: 'card', 'data-breaker': key, 'aria-label': `Breaker of ${key}` }, h('h4', {}, key, ' ', state), details, actions);
            c = { card, state, details, actions, shown: '' };
            cards.set(key, c);
            body.append(card);
          }
          const text = `${STATE_TEXT[b.state]}${b.forced ? ' (forced)' : ''}`;
          setText(c.state, text);
          c.state.className = `chip chip-${b.state}`;
          c.card.dataset.state = b.state;
          const condensed = condensedBreaker(ctx.mode, b);
          c.card.classList.toggle('condensed', condensed);
          const totals = row('Totals', `${b.totals.successes} ok · ${b.totals.failures} failed · ${b.totals.rejected} rejected`, 'totals');
          if (condensed) fill(c.details, ...totals);
          else fill(
            c.details,
            ...row('Window', `${b.window.calls} calls, ${b.window.failures} failed (${(b.window.failure_rate * 100).toFixed(1)}%), ${b.window.slow} slow`),
            ...row('Consecutive failures', String(b.consecutive_failures)),
            ...totals,
            ...row('Trips', String(b.trips)),
            ...(b.opened_at !== null ? row('Opened', new Date(b.opened_at).toLocaleTimeString()) : []),
            ...(b.next_trial_at !== null ? row('Retries', `${new Date(b.next_trial_at).toLocaleTimeString()} (in ${Math.max(0, Math.round((b.next_trial_at - Date.now()) / 1000))} s)`) : []),
            ...(b.last_reason ? row('Reason', b.last_reason) : []),
          );
          // Rebuild the buttons only when the state changes, so keyboard focus survives updates.
          const shown = condensed ? 'condensed' : b.state;
          if (c.shown !== shown) {
            c.shown = shown;
            const target = { model: m.name, version: v.version };
            if (condensed) fill(c.actions);
            else fill(
              c.actions,
              button('Reset', `breaker-reset:${key}`, () => ctx.act({ kind: 'breaker', action: 'reset', ...target }), b.state === 'closed'),
              button('Force Open…', `breaker-open:${key}`, () => ctx.act({ kind: 'breaker', action: 'open', ...target }), true),
            );
          }
        }
      }
      for (const [key, c] of cards) {
        if (!seen.has(key)) {
          c.card.remove();
          cards.delete(key);
        }
      }
      if (cards.size === 0) fill(body, h('p', { class: 'muted' }, 'No loaded model version.'));
      else body.querySelector(':scope > p.muted')?.remove();
    },
  };
}

function row(label: string, value: string, field?: string): HTMLElement[] {
  return [h('dt', {}, label), h('dd', field ? { 'data-field': field } : {}, value)];
}
