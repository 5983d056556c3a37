// Runs a command's body and turns failures into one clear message: "not running" offers Start,
// an agent error shows the agent's own message, anything else offers the log.
import * as vscode from 'vscode';
import { AgentHttpError, AgentNotRunningError, AgentStartError } from '../errors.js';
import type { Services } from '../services.js';

export function guarded<A extends unknown[], R>(s: Services, name: string, body: (...args: A) => Promise<R>): (...args: A) => Promise<R | undefined> {
  return async (...args: A) => {
    try {
      return await body(...args);
    } catch (err) {
      report(s, name, err);
      return undefined;
    }
  };
}

/** Logs the error and shows it; does not wait for the user to answer the notification. */
export function report(s: Services, name: string, err: unknown): void {
  s.log.error(`${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  if (err instanceof AgentNotRunningError) {
    void vscode.window.showWarningMessage(`${name}: the Inferscope agent is not running.`, s.agent.mode.kind === 'remote' ? 'Connect' : 'Start Agent').then((pick) => pick && s.startAgent());
    return;
  }
  if (err instanceof AgentStartError && err.cancelled) return;
  const message = err instanceof AgentHttpError || err instanceof AgentStartError ? err.message.split('\n')[0]! : `${(err as Error).message ?? err}`;
  void vscode.window.showErrorMessage(`${name} failed: ${message}`, 'Show Log').then((pick) => {
    if (pick === 'Show Log') (err instanceof AgentStartError ? s.agentLog : s.log).show(true);
  });
}

/** The endpoint, or AgentNotRunningError (which `guarded` turns into the Start offer). */
export function requireAgent(s: Services): void {
  if (!s.agent.endpoint()) throw new AgentNotRunningError();
}
