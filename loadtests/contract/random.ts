/**
 * Seeded randomness shared by the orchestrator and the load clients (no dependencies, so the
 * client images load it as it is): the same seed gives the same sequence everywhere.
 */

/** mulberry32: small, fast and good enough to shuffle or draw arrivals; values in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An exponentially distributed draw with the given mean (the gap between Poisson arrivals). */
export function exponential(random: () => number, mean: number): number {
  // 1 - u is in (0, 1]: never log(0).
  return -Math.log(1 - random()) * mean;
}
