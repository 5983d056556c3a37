// The raw metrics document puts the agent's own series (`inferscope_*`) first: they are what a
// user opens it for; the Triton-compatible `nv_*` and the process/Node.js defaults follow, each
// group in the agent's order. Families stay whole (HELP, TYPE, UNIT and samples together). Pure.

/** The metric family a line belongs to: `# HELP name …`, `# TYPE name …`, or a sample `name{…} v`. */
function familyOf(line: string): string | undefined {
  const meta = /^#\s+(?:HELP|TYPE|UNIT)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
  if (meta) return meta[1];
  if (line.startsWith('#') || line.trim() === '') return undefined;
  return /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
}

export function inferscopeFirst(text: string): string {
  const blocks: { family: string; lines: string[] }[] = [];
  const trailer: string[] = [];
  for (const line of text.split('\n')) {
    const family = familyOf(line);
    // OpenMetrics' `# EOF` (and blank lines) stay at the end.
    if (family === undefined) {
      if (line.trim()) trailer.push(line);
      continue;
    }
    const last = blocks[blocks.length - 1];
    // Samples of a histogram (`x_bucket`, `x_sum`) belong to the family `x` that declared them.
    if (last && (family === last.family || (!line.startsWith('#') && family.startsWith(`${last.family}_`)))) last.lines.push(line);
    else blocks.push({ family, lines: [line] });
  }
  const ours = blocks.filter((b) => b.family.startsWith('inferscope_'));
  const rest = blocks.filter((b) => !b.family.startsWith('inferscope_'));
  return [...ours, ...rest].flatMap((b) => b.lines).concat(trailer).join('\n') + '\n';
}
