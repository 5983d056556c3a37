// Canaries that ended while this window watched the agent, kept whole (checks and all) as soon as a
// snapshot shows them ended, so their reports open after the agent has stopped: the panel's down
// state lists them with Show Report, and a canary started elsewhere (a script, another window) was
// never followed here.
import type { AgentStatus, Canary } from '../../../common/api.js';

export interface CanaryKeeper {
  known(id: string): Canary | undefined;
  remember(c: Canary): void;
}

export class EndedCanaries {
  /** Ids being fetched or fetched: each ended canary is asked for once. */
  private readonly asked = new Set<string>();

  constructor(
    private readonly fetch: (id: string) => Promise<Canary>,
    private readonly keeper: CanaryKeeper,
    /** As many as the panel's down state lists. */
    private readonly limit = 10,
  ) {}

  /** Fetches the ended canaries of a snapshot this window does not hold ended yet; resolves when kept. */
  async onSnapshot(status: AgentStatus): Promise<void> {
    const ended = (status.canaries ?? [])
      .filter((c) => c.state !== 'running')
      .sort((a, b) => (a.started_at < b.started_at ? 1 : -1))
      .slice(0, this.limit)
      .filter((c) => !this.asked.has(c.id) && (this.keeper.known(c.id)?.state ?? 'running') === 'running');
    await Promise.all(
      ended.map(async (c) => {
        this.asked.add(c.id);
        try {
          this.keeper.remember(await this.fetch(c.id));
        } catch {
          // The agent went away meanwhile: the next snapshot of a running agent asks again.
          this.asked.delete(c.id);
        }
      }),
    );
  }
}
