// Triton's logging extension (GET/POST /v2/logging) mapped onto the agent's one log level:
// log_verbose_level > 0 is debug, log_info is info, log_warning is warn; errors always log, and
// the log always goes to stderr in the default format.
import { z } from 'zod';
import { describeZodIssues } from '../config/zodIssues.js';
import { InvalidInputError } from '../errors.js';
import type { LogLevel } from './logger.js';

export interface TritonLogSettings {
  log_file: string;
  log_info: boolean;
  log_warning: boolean;
  log_error: boolean;
  log_verbose_level: number;
  log_format: string;
}

export function logSettingsOf(level: LogLevel): TritonLogSettings {
  return {
    log_file: '',
    log_info: level === 'debug' || level === 'info',
    log_warning: level !== 'error',
    log_error: true,
    log_verbose_level: level === 'debug' ? 1 : 0,
    log_format: 'default',
  };
}

const updateSchema = z
  .object({
    log_file: z.literal('', 'the agent logs to stderr (its supervisor keeps the log); log_file must be ""'),
    log_info: z.boolean(),
    log_warning: z.boolean(),
    log_error: z.literal(true, 'errors are always logged; log_error must be true'),
    log_verbose_level: z.int().min(0),
    log_format: z.literal('default', 'only the "default" log format is available'),
  })
  .partial()
  .strict();

/** The level after applying a POST /v2/logging body to the current one. */
export function applyLogSettings(current: LogLevel, body: unknown): LogLevel {
  const parsed = updateSchema.safeParse(body ?? {});
  if (!parsed.success) throw new InvalidInputError(`invalid log settings: ${describeZodIssues(parsed.error)}`);
  const now = logSettingsOf(current);
  const next = { ...now, ...parsed.data };
  if (next.log_verbose_level > 0) return 'debug';
  // Turning verbose off from debug leaves info on, unless the request turns info off too.
  if (next.log_info) return 'info';
  return next.log_warning ? 'warn' : 'error';
}
