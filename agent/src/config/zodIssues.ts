import type { z } from 'zod';

/** "field 'dynamic_batching.max_queue_size': expected a non-negative integer" for each issue. */
export function describeZodIssues(error: z.ZodError): string {
  return describe(error.issues);
}

/**
 * Of a union's branches, the one that got furthest into the value says best what is wrong (a
 * provider object with an unknown option: its `options` branch, not "expected a name").
 */
function closestBranch(issue: z.core.$ZodIssueInvalidUnion): z.core.$ZodIssue[] | undefined {
  const depth = (issues: z.core.$ZodIssue[]) => Math.max(...issues.map((i) => i.path.length + (i.code === 'invalid_union' ? 1 : 0)));
  let best: z.core.$ZodIssue[] | undefined;
  for (const branch of issue.errors) if (branch.length > 0 && (!best || depth(branch) > depth(best))) best = branch;
  return best;
}

function describe(issues: z.core.$ZodIssue[], prefix: PropertyKey[] = []): string {
  return issues
    .map((issue): string => {
      if (issue.code === 'invalid_union' && issue.errors.length > 0) {
        const branch = closestBranch(issue);
        if (branch) return describe(branch, [...prefix, ...issue.path]);
      }
      issue = { ...issue, path: [...prefix, ...issue.path] };
      const path = issue.path.map(String).join('.');
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys.map((k) => `'${path ? `${path}.` : ''}${k}'`).join(', ');
        return `unknown field ${keys}`;
      }
      return path ? `field '${path}': ${issue.message}` : issue.message;
    })
    .join('; ');
}
