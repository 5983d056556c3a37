// Waiting on an observable state, and small facts about processes and ports, that several suites need (plain Node, no vscode), so the
// extension-host suites can use them too.

export { alive, freePort } from '../../scripts/lib/processes.js';

/** Polls a condition (an observable state: an agent, a view, a process) until it holds or the time runs out. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, detail: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await cond()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms\n${detail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
