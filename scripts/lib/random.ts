/** mulberry32: a tiny seeded PRNG, so training is reproducible bit for bit. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffleInPlace<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}

/** Normal(0, std) by Box-Muller. */
export function gaussian(random: () => number, std: number): number {
  const u = Math.max(random(), 1e-12);
  return std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}
