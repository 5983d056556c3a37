// The extension's typed errors. Commands turn them into one message each (see commands/guard.ts).

/** The agent could not be started; the message carries the tail of its stderr. */
export class AgentStartError extends Error {
  override readonly name = 'AgentStartError';
  constructor(
    message: string,
    readonly cancelled = false,
  ) {
    super(message);
  }
}

/** A command needs the agent and none is running or connected. */
export class AgentNotRunningError extends Error {
  override readonly name = 'AgentNotRunningError';
  constructor() {
    super('The Inferscope agent is not running.');
  }
}

/** The agent answered with an error status; `message` is the agent's own `error` text. */
export class AgentHttpError extends Error {
  override readonly name = 'AgentHttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
