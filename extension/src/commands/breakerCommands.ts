// Reset Circuit Breaker… and Force Open Circuit Breaker…: from the palette (pick a version) or a
// tree item's context menu (the item is the argument). Force Open asks first (a modal) when it would
// refuse a model's traffic (see forceOpenQuestion), through Services.prompts (tests answer it); an
// argument's `confirmed: true` skips the question and `confirmed: false` declines it (keybindings).
import * as vscode from 'vscode';
import type { BreakerAction, BreakerStatus } from '../../../common/api.js';
import type { Services } from '../services.js';
import { FORCE_OPEN, forceOpenQuestion } from './forceOpenQuestion.js';
import { guarded, requireAgent } from './guard.js';
import { windowPrompts } from './prompts.js';
import { isVersionRef, pickVersion } from './pickVersion.js';

export function registerBreakerCommands(s: Services): vscode.Disposable[] {
  const command = (action: BreakerAction, title: string) =>
    guarded(s, title, async (arg?: unknown): Promise<BreakerStatus | undefined> => {
      requireAgent(s);
      const ref = isVersionRef(arg) ? arg : await pickVersion(await s.client.status(), `Inferscope: ${title}`);
      if (!ref) return undefined;
      if (action === 'open') {
        const confirmed = (arg as { confirmed?: unknown } | undefined)?.confirmed;
        const question = confirmed === true ? undefined : forceOpenQuestion(await s.client.status(), ref.model, ref.version);
        if (question) {
          s.log.info(`breaker ${ref.model}/${ref.version}: asking "${question}"`);
          if (confirmed === false) return undefined;
          const ok = await (s.prompts ?? windowPrompts).message('warning', question, { modal: true }, FORCE_OPEN);
          if (ok !== FORCE_OPEN) return undefined;
        }
      }
      const breaker = await s.client.breaker(ref.model, ref.version, action);
      s.log.info(`breaker ${ref.model}/${ref.version}: ${action} → ${breaker.state}`);
      void vscode.window.setStatusBarMessage(`Inferscope: breaker of ${ref.model}/${ref.version} is ${breaker.state.replace('_', '-')}`, 4000);
      await s.live.refresh().catch(() => undefined);
      return breaker;
    });
  return [
    vscode.commands.registerCommand('inferscope.resetBreaker', command('reset', 'Reset Circuit Breaker')),
    vscode.commands.registerCommand('inferscope.openBreaker', command('open', 'Force Open Circuit Breaker')),
  ];
}
