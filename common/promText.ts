// A parser for the Prometheus text exposition format (what GET /metrics serves): enough for the
// extension to compute rates and quantiles, as Prometheus itself would from two scrapes.

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** Metric sample name (with _bucket/_sum/_count suffixes as written) → samples. */
export type Scrape = Map<string, Sample[]>;

export function parsePromText(text: string): Scrape {
  const out: Scrape = new Map();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const parsed = parseLine(line);
    if (!parsed) continue;
    const list = out.get(parsed.name);
    if (list) list.push(parsed.sample);
    else out.set(parsed.name, [parsed.sample]);
  }
  return out;
}

function parseLine(line: string): { name: string; sample: Sample } | undefined {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
  if (!m) return undefined;
  const name = m[1]!;
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (line[i] === ' ' || line[i] === ',') i++;
      if (line[i] === '}') {
        i++;
        break;
      }
      const key = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i));
      if (!key || line[i + key[0].length] !== '=' || line[i + key[0].length + 1] !== '"') return undefined;
      i += key[0].length + 2;
      let value = '';
      for (; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === '\\') {
          i++;
          value += line[i] === 'n' ? '\n' : line[i];
        } else value += line[i];
      }
      if (i >= line.length) return undefined;
      i++; // closing quote
      labels[key[0]] = value;
    }
  }
  const rest = line.slice(i).trim().split(/\s+/);
  const value = parseValue(rest[0] ?? '');
  return value === undefined ? undefined : { name, sample: { labels, value } };
}

function parseValue(s: string): number | undefined {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  const v = Number(s);
  return s !== '' && !Number.isNaN(v) ? v : undefined;
}

/** Samples of `name` whose labels include all of `match`. */
export function select(scrape: Scrape, name: string, match: Record<string, string> = {}): Sample[] {
  return (scrape.get(name) ?? []).filter((s) => Object.entries(match).every(([k, v]) => s.labels[k] === v));
}

export function sum(samples: Sample[]): number {
  return samples.reduce((a, s) => a + s.value, 0);
}
