// OpenMetrics text from the Prometheus text exposition. prom-client can serialize OpenMetrics
// only by switching a registry's format, and doing so renames its counters in place (the
// "_total" suffix is lost for every later Prometheus-format scrape). For the series this agent
// exposes, the formats differ only in this: a counter's family name (HELP/TYPE) carries no
// "_total" (its samples still do), and the exposition ends with "# EOF". Exemplars (OpenMetrics
// only) are appended to the samples `exemplarOf` names.
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

export function toOpenMetrics(prometheusText: string, exemplarOf?: (sample: string) => string | undefined): string {
  const counters = new Set<string>();
  for (const m of prometheusText.matchAll(/^# TYPE (\S+) counter$/gm)) counters.add(m[1]!);
  const out = prometheusText
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const meta = /^# (HELP|TYPE) (\S+)(.*)$/.exec(line);
      if (!meta) {
        const exemplar = exemplarOf?.(line);
        return exemplar ? `${line} # ${exemplar}` : line;
      }
      const family = counters.has(meta[2]!) && meta[2]!.endsWith('_total') ? meta[2]!.slice(0, -'_total'.length) : meta[2]!;
      // OpenMetrics HELP text escapes double quotes too (the Prometheus format does not).
      const rest = meta[1] === 'HELP' ? meta[3]!.replace(/(?<!\\)"/g, '\\"') : meta[3]!;
      return `# ${meta[1]} ${family}${rest}`;
    });
  return `${out.join('\n')}\n# EOF\n`;
}
