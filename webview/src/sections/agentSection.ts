// Agent: version, address, uptime, execution providers; "not running — Start" when down.
import { fill, h } from '../dom.js';
import type { PanelContext, Section } from '../panelContext.js';
import { formatDuration } from '../charts/scale.js';
import { button } from './controls.js';
import { ValuesList } from './common.js';

export function agentSection(): Section {
  const body = h('div');
  const values = new ValuesList();
  let mode: 'up' | 'down' | undefined;
  return {
    id: 'agent',
    title: 'Agent',
    body,
    summary: (ctx) => (ctx.state.status ? `v${ctx.state.status.agent.version} · up ${formatDuration(ctx.state.status.agent.uptime_s)}` : ctx.state.agent.phase),
    update(ctx) {
      const s = ctx.state.status;
      const phase = ctx.state.agent.phase;
      if (!s || phase !== 'ready') {
        mode = 'down';
        const what =
          phase === 'starting' ? 'Agent starting…' : phase === 'crashed' ? `Agent crashed — restarting. ${ctx.state.agent.message ?? ''}` : phase === 'failed' ? `Agent down: ${ctx.state.agent.message ?? ''}` : 'Agent not running';
        fill(
          body,
          h('p', { class: `agent-state agent-${phase}`, 'data-agent': phase }, what),
          phase === 'starting' ? null : button('Start', 'start-agent', () => ctx.act({ kind: 'startAgent' })),
          phase === 'failed' || phase === 'crashed' ? button('Show Log', 'show-log', () => ctx.act({ kind: 'showLog' }), true) : null,
        );
        return;
      }
      if (mode !== 'up') {
        mode = 'up';
        fill(body, h('p', { class: 'agent-state agent-ready', 'data-agent': 'ready' }, 'Agent ready'), values.element);
      }
      const providers = [...new Set(s.models.flatMap((m) => m.versions.map((v) => v.execution_provider).filter((p): p is string => !!p)))];
      values.set([
        ['Version', s.agent.version],
        ['Address', `${s.agent.address}${ctx.state.agent.remote ? ' (remote)' : ''}`],
        ['PID', String(s.agent.pid)],
        ['Uptime', formatDuration(s.agent.uptime_s)],
        ['Execution providers', providers.join(', ') || '–'],
        ['Models', s.agent.model_repository],
      ]);
    },
  };
}
