// What one version served during the current step of a canary.

/** Keeps at most this many latencies/confidences per version and step (uniform reservoir). */
const RESERVOIR = 20_000;

export class VersionSamples {
  requests = 0;
  errors = 0;
  readonly latenciesMs: number[] = [];
  readonly confidences: number[] = [];
  readonly classCounts: number[] = [];
  private seen = 0;
  private seenConfidence = 0;

  constructor(private readonly random: () => number = Math.random) {}

  add(ok: boolean, latencyMs: number, classes: number[] = [], confidences: number[] = []): void {
    this.requests++;
    if (!ok) {
      this.errors++;
      return;
    }
    this.seen++;
    reservoirPush(this.latenciesMs, latencyMs, this.seen, this.random);
    for (const c of classes) this.classCounts[c] = (this.classCounts[c] ?? 0) + 1;
    for (const v of confidences) reservoirPush(this.confidences, v, ++this.seenConfidence, this.random);
  }
}

function reservoirPush(into: number[], value: number, seen: number, random: () => number): void {
  if (into.length < RESERVOIR) into.push(value);
  else {
    const j = Math.floor(random() * seen);
    if (j < RESERVOIR) into[j] = value;
  }
}
