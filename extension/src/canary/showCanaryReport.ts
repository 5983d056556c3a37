// Show Canary Report…: pick a canary (titled, newest first, local times, distinct labels) or take
// its id (the panel's Show Report, a notification's button), then open its report as a Markdown
// preview whose tab names the canary. Returns the report's text (tests read it).
import * as vscode from 'vscode';
import type { Services } from '../services.js';
import { requireAgent } from '../commands/guard.js';
import { windowPrompts } from '../commands/prompts.js';
import { AgentDocuments } from '../views/agentDocuments.js';
import { REPORT_PICK_TITLE, reportPickItems } from './canaryReportPick.js';

export async function showCanaryReport(s: Services, docs: AgentDocuments, arg?: unknown): Promise<string | undefined> {
  let id = typeof arg === 'string' ? arg : (arg as { id?: string } | undefined)?.id;
  if (!id) {
    requireAgent(s);
    const all = await s.client.canaries();
    if (all.length === 0) {
      void vscode.window.showInformationMessage('No canary has run on this agent in the last hour.');
      return undefined;
    }
    const items = reportPickItems(all);
    id = (await (s.prompts ?? windowPrompts).pick(items, { title: REPORT_PICK_TITLE, placeholder: 'Canaries of the last hour, newest first (local times)' }))?.id;
    if (!id) return undefined;
  }
  // A canary this window never followed (started elsewhere) is read from the agent: it must run
  // (the answer offers to start it). Its head names the tab.
  let canary = docs.known(id);
  if (!canary) {
    requireAgent(s);
    canary = await s.client.canary(id).catch(() => undefined);
  }
  if (canary) docs.remember(canary);
  const uri = canary ? docs.reportUri(canary) : AgentDocuments.canaryUri(id);
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.commands.executeCommand('markdown.showPreview', uri).then(undefined, () => vscode.window.showTextDocument(doc));
  return doc.getText();
}
