// The command line that launches the bundled agent from the extension's settings. Pure, so the
// mapping from settings to flags is tested without VS Code.
import { join } from 'node:path';
import type { LaunchSpec } from './agentLaunch.js';

export interface LocalAgentSettings {
  /** Empty: the runtime VS Code's extension host runs on (with ELECTRON_RUN_AS_NODE). */
  nodePath: string;
  /** Empty: the demo models bundled with the extension. */
  modelRepository: string;
  port: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  enableFaults: boolean;
  /** A JSON settings file for the agent (batching and cache defaults), when any are set. */
  configFile?: string;
}

export function agentCommandLine(extensionPath: string, s: LocalAgentSettings, token: string, baseEnv: NodeJS.ProcessEnv, execPath: string): LaunchSpec {
  const args = [join(extensionPath, 'dist', 'agent', 'main.js'), '--port', String(s.port), '--grpc-port', '0', '--log-level', s.logLevel, '--exit-on-stdin-close'];
  if (s.modelRepository) args.push('--models', s.modelRepository);
  if (s.enableFaults) args.push('--enable-faults');
  if (s.configFile) args.push('--config', s.configFile);
  const env: NodeJS.ProcessEnv = { ...baseEnv, INFERSCOPE_TOKEN: token };
  // The token reaches the agent only through its environment, never its command line.
  if (!s.nodePath) env.ELECTRON_RUN_AS_NODE = '1';
  else delete env.ELECTRON_RUN_AS_NODE;
  return { command: s.nodePath || execPath, args, env, token };
}
