// Reads a model repository laid out as Triton's:  <root>/<model>/config.json,
// <root>/<model>/<version>/model.onnx. One broken model never hides the others: its problem is
// returned as that model's `error`.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { parseModelConfig, type ModelConfig } from './modelConfig.js';
import type { ModelDefaults } from './modelDefaults.js';
import { MODEL_NAME_RULE, isValidModelName, isValidVersion } from './names.js';

export interface VersionEntry {
  version: string;
  modelPath: string;
  /** Set when the version folder is unusable (no model.onnx). */
  error?: string;
}

export interface ModelEntry {
  name: string;
  dir: string;
  config?: ModelConfig;
  /** Set when the model as a whole cannot load (bad config, no versions). */
  error?: string;
  versions: VersionEntry[];
  defaultVersion?: string;
}

export interface ScanResult {
  models: ModelEntry[];
  /** Folders skipped because their names are not valid model names. */
  skipped: string[];
}

export function scanRepository(root: string, defaults: ModelDefaults = {}): ScanResult {
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new ConfigError(`model repository ${root} does not exist or is not a folder (--models)`);
  }
  const models: ModelEntry[] = [];
  const skipped: string[] = [];
  for (const name of readdirSync(root).sort()) {
    const dir = join(root, name);
    if (name.startsWith('.') || !isFolder(dir)) continue;
    if (!isValidModelName(name)) {
      skipped.push(`${name} (${MODEL_NAME_RULE})`);
      continue;
    }
    models.push(readModel(name, dir, defaults));
  }
  return { models, skipped };
}

/** Names that would be read as a route of the protocol (/v2/models/stats, .../config, /v2/repository). */
export const RESERVED_MODEL_NAMES = new Set(['stats', 'config', 'repository']);

/** False for files and for links that point nowhere: one broken entry must not stop the scan. */
export function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Reads one model folder. `configText`, when given, replaces config.json (Triton's load with a
 * `config` parameter).
 */
export function readModel(name: string, dir: string, defaults: ModelDefaults, configText?: string): ModelEntry {
  const entry: ModelEntry = { name, dir, versions: [] };
  const configFile = join(dir, 'config.json');
  try {
    if (RESERVED_MODEL_NAMES.has(name)) {
      throw new ConfigError(`the model name "${name}" is reserved (the protocol's /v2/models/${name} route would hide it); rename the folder`);
    }
    if (configText !== undefined) entry.config = parseModelConfig(configText, `the 'config' parameter for ${name}`, name, defaults);
    else {
      if (!existsSync(configFile)) throw new ConfigError(`${configFile}: missing (every model needs a config.json)`);
      entry.config = parseModelConfig(readFileSync(configFile, 'utf8'), configFile, name, defaults);
    }
  } catch (err) {
    entry.error = (err as Error).message;
    return entry;
  }
  // Numeric folders are versions; anything else (examples/, README) is ignored, as in Triton.
  const versions = readdirSync(dir)
    .filter((v) => isValidVersion(v) && isFolder(join(dir, v)))
    .sort((a, b) => Number(a) - Number(b));
  for (const version of versions) {
    const modelPath = join(dir, version, 'model.onnx');
    entry.versions.push({ version, modelPath, ...modelFileProblem(modelPath) });
  }
  if (entry.versions.length === 0) {
    entry.error = `${dir}: no version folders (expected ${dir}/1/model.onnx)`;
    return entry;
  }
  const wanted = entry.config.default_version;
  if (wanted !== undefined && !versions.includes(wanted)) {
    entry.error = `${configFile}: field 'default_version': version "${wanted}" has no folder in ${dir}`;
    return entry;
  }
  entry.defaultVersion = wanted ?? versions[versions.length - 1];
  return entry;
}

/**
 * A model file must be a regular file: a FIFO or a device would block the thread that reads it
 * (and with it the agent's exit) forever.
 */
function modelFileProblem(path: string): { error?: string } {
  if (!existsSync(path)) return { error: `${path} is missing` };
  try {
    return statSync(path).isFile() ? {} : { error: `${path} is not a regular file` };
  } catch (err) {
    return { error: `${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  }
}

/** Size and modification time of a file, '-' when it cannot be read: what a reload compares. */
export function fileFingerprint(path: string): string {
  try {
    const st = statSync(path);
    return `${st.size}:${st.mtimeMs}`;
  } catch {
    return '-';
  }
}

/** One string that changes when the model's config.json, version folders or model files change. */
export function modelFingerprint(dir: string): string {
  let versions: string[];
  try {
    versions = readdirSync(dir).filter((v) => isValidVersion(v)).sort();
  } catch {
    return 'missing';
  }
  return [`config=${fileFingerprint(join(dir, 'config.json'))}`, ...versions.map((v) => `${v}=${fileFingerprint(join(dir, v, 'model.onnx'))}`)].join(' ');
}
