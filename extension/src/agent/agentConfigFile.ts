// The agent settings file the extension writes for settings that have no flag (batching and cache
// defaults for every model). Never holds the token: that goes through the environment.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelDefaults } from '../settings.js';

export function writeAgentConfigFile(dir: string, modelDefaults: ModelDefaults): string | undefined {
  if (Object.keys(modelDefaults).length === 0) return undefined;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'agent-settings.json');
  writeFileSync(file, `${JSON.stringify({ model_defaults: modelDefaults }, null, 2)}\n`);
  return file;
}
