// Pieces several sections use: the selected model, a values list (the charts' text alternative).
import { h, setText } from '../dom.js';
import type { PanelContext } from '../panelContext.js';

export function selectedModel(ctx: PanelContext): string | undefined {
  const models = ctx.state.status?.models.map((m) => m.name) ?? [];
  return ctx.ui.model && models.includes(ctx.ui.model) ? ctx.ui.model : models[0];
}

/** A list of "label value" pairs, updated in place; it is what a screen reader reads for a chart. */
export class ValuesList {
  readonly element = h('dl', { class: 'values' });
  private readonly rows = new Map<string, HTMLElement>();

  set(entries: [string, string][]): void {
    const keep = new Set(entries.map(([k]) => k));
    for (const [k, dd] of this.rows) {
      if (!keep.has(k)) {
        dd.previousElementSibling?.remove();
        dd.remove();
        this.rows.delete(k);
      }
    }
    for (const [k, v] of entries) {
      let dd = this.rows.get(k);
      if (!dd) {
        dd = h('dd');
        this.element.append(h('dt', {}, k), dd);
        this.rows.set(k, dd);
      }
      setText(dd, v);
    }
  }

  text(): string {
    return [...this.rows].map(([k, dd]) => `${k} ${dd.textContent}`).join(', ');
  }
}

export function emptyNote(text: string): HTMLElement {
  return h('p', { class: 'muted' }, text);
}
