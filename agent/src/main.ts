#!/usr/bin/env node
// `inferscope-agent`: parses flags and settings, starts the agent, prints one JSON line to stdout
// when it listens, and stops gracefully on SIGTERM/SIGINT.
import { resolve, join } from 'node:path';
import type { ListeningEvent } from '../../common/api.js';
import { startAgent } from './agent.js';
import { USAGE, parseCliArgs } from './cli/parseCliArgs.js';
import { defaultAgentConfig, finalizeAgentConfig, readAgentConfigFile, type AgentConfig } from './config/agentConfig.js';
import { ConfigError } from './errors.js';
import { createLogger } from './log/logger.js';
import { AGENT_VERSION } from './version.js';

// The bundle lives in dist/agent/; the demo repository at the package root.
const BUNDLED_MODELS = resolve(__dirname, '..', '..', 'models');
const WORKERS = { inference: join(__dirname, 'inferenceWorker.js'), device: join(__dirname, 'deviceWorker.js'), parser: join(__dirname, 'parserWorker.js'), export: join(__dirname, 'exportWorker.js') };

interface Settings {
  config: AgentConfig;
  exitOnStdinClose: boolean;
}

function settings(argv: string[]): Settings | 'done' {
  const command = parseCliArgs(argv);
  if (command.kind === 'help') {
    process.stdout.write(USAGE);
    return 'done';
  }
  if (command.kind === 'version') {
    process.stdout.write(`${AGENT_VERSION}\n`);
    return 'done';
  }
  const fromFile = command.configFile ? readAgentConfigFile(command.configFile) : {};
  const token = process.env.INFERSCOPE_TOKEN;
  const merged: AgentConfig = {
    ...defaultAgentConfig(BUNDLED_MODELS),
    ...fromFile,
    ...command.overrides,
    ...(token ? { token } : {}),
  };
  merged.models = resolve(merged.models);
  merged.state_dir = resolve(merged.state_dir);
  return { config: finalizeAgentConfig(merged), exitOnStdinClose: command.exitOnStdinClose };
}

async function main(): Promise<void> {
  let parsed: Settings | 'done';
  try {
    parsed = settings(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`inferscope-agent: ${(err as Error).message}\n`);
    process.exit(2);
  }
  if (parsed === 'done') return;
  const { config } = parsed;
  const logger = createLogger(config.log_level);
  // A stray rejection inside a library (a timed-out Redis command, say) must not take down every
  // model the agent serves: log it loudly instead.
  process.on('unhandledRejection', (err) => {
    logger.error('unhandled promise rejection (please report this)', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  });
  // Listen for the supervisor's end from the start: a supervisor that dies while models load must
  // not leave an agent behind (before it listens there is nothing to drain).
  let onStdinClosed: () => void = () => process.exit(0);
  if (parsed.exitOnStdinClose) {
    process.stdin.on('end', () => onStdinClosed());
    process.stdin.on('error', () => onStdinClosed());
    process.stdin.resume();
  }
  const agent = await startAgent(config, logger, WORKERS).catch((err: Error) => {
    process.stderr.write(`inferscope-agent: ${err instanceof ConfigError ? err.message : err.stack}\n`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  });
  const line: ListeningEvent = { event: 'listening', host: agent.host, port: agent.port, ...(agent.grpcPort !== undefined ? { grpc_port: agent.grpcPort } : {}), pid: process.pid };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  const host = agent.host.includes(':') ? `[${agent.host}]` : agent.host;
  logger.info('listening', { url: `http://${host}:${agent.port}`, ...(agent.grpcPort !== undefined ? { grpc: `${host}:${agent.grpcPort}` } : {}), version: AGENT_VERSION });

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second Ctrl-C means "now"; a repeated SIGTERM (supervisors resend it) changes nothing.
      if (signal === 'SIGINT') process.exit(130);
      return;
    }
    stopping = true;
    logger.info('shutting down', { signal });
    agent.stop().then(
      ({ timedOut }) => process.exit(timedOut ? 1 : 0),
      (err: Error) => {
        logger.error('shutdown failed', { error: err.message });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  // The supervisor holds the other end of stdin; it closes however the supervisor ends.
  onStdinClosed = () => shutdown('SIGTERM');
}

void main();
