import type { z } from 'zod';

/** "field 'dynamic_batching.max_queue_size': expected a non-negative integer" for each issue. */
export function describeZodIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys.map((k) => `'${path ? `${path}.` : ''}${k}'`).join(', ');
        return `unknown field ${keys}`;
      }
      return path ? `field '${path}': ${issue.message}` : issue.message;
    })
    .join('; ');
}
