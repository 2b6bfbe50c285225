import { describe, expect, it } from "vitest";
import { decode, encode, merge, newHistogram, summarise } from "../../../src/measure/histogram.js";
import { histogramOf, rng } from "../fixtures.js";

/** Exact percentile over raw values, with HdrHistogram's definition: the value at rank ceil(p/100 * n). */
function bruteForce(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** 3 significant digits: a value is reported as the top of its bucket, within 1/1024 of it. */
function expectClose(actualMs: number, exactUs: number): void {
  const exactMs = exactUs / 1000;
  expect(Math.abs(actualMs - exactMs)).toBeLessThanOrEqual(exactMs / 1024 + 0.001);
  expect(actualMs).toBeGreaterThanOrEqual(exactMs); // highest equivalent value: never below
}

/** Log-normal-ish latencies in µs, with a per-client scale so clients differ. */
function samples(seed: number, n: number, scaleUs: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const u1 = Math.max(r(), 1e-12);
    const u2 = r();
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    return Math.max(1, Math.round(scaleUs * Math.exp(0.8 * z)));
  });
}

describe("histogram encode/decode", () => {
  it("round-trips counts and values", () => {
    const h = newHistogram();
    for (const v of [5, 100, 1000, 123_456, 9_000_000]) h.recordValue(v);
    const back = decode(encode(h));
    expect(back.totalCount).toBe(5);
    // The encoding keeps buckets, not values: the max comes back as the top of its bucket.
    expect(back.maxValue).toBeGreaterThanOrEqual(9_000_000);
    expect(back.maxValue).toBeLessThanOrEqual(9_000_000 * (1 + 1 / 1024));
    expect(back.getValueAtPercentile(100)).toBe(h.getValueAtPercentile(100));
    expect(back.getValueAtPercentile(50)).toBe(h.getValueAtPercentile(50));
  });

  it("summarises an empty histogram as null, not as zero latency", () => {
    expect(summarise(newHistogram())).toBeNull();
    expect(summarise(merge([]))).toBeNull();
    expect(summarise(merge([encode(newHistogram())]))).toBeNull();
  });

  it("reports milliseconds", () => {
    const s = summarise(decode(histogramOf([1000, 2000, 3000, 4000])))!;
    expect(s.count).toBe(4);
    expect(s.min).toBeCloseTo(1, 2);
    expect(s.max).toBeCloseTo(4, 2);
    expect(s.mean).toBeCloseTo(2.5, 2);
    expect(s.p50).toBeCloseTo(2, 2);
  });
});

describe("merging clients' histograms", () => {
  it("matches brute-force percentiles over all raw values, within HdrHistogram precision", () => {
    const clients = [
      samples(1, 20_000, 2_000),
      samples(2, 5_000, 15_000),
      samples(3, 12_000, 800),
      samples(4, 300, 250_000), // a small, slow client
    ];
    const merged = summarise(merge(clients.map(histogramOf)))!;
    const all = clients.flat().sort((a, b) => a - b);
    expect(merged.count).toBe(all.length);
    expectClose(merged.p50, bruteForce(all, 50));
    expectClose(merged.p90, bruteForce(all, 90));
    expectClose(merged.p99, bruteForce(all, 99));
    expectClose(merged.p999, bruteForce(all, 99.9));
    expectClose(merged.max, all[all.length - 1]!);
    expect(merged.min).toBeLessThanOrEqual(all[0]! / 1000 + 0.001);
    const exactMean = all.reduce((a, b) => a + b, 0) / all.length / 1000;
    expect(Math.abs(merged.mean - exactMean) / exactMean).toBeLessThan(0.001);
  });

  it("shows that averaging per-client percentiles gives a wrong answer in a skewed case", () => {
    // One busy, fast client (10 000 replies around 1 ms) and one that saw 100 slow replies (500 ms).
    const fast = samples(5, 10_000, 1_000).map((v) => Math.min(v, 5_000));
    const slow = Array.from({ length: 100 }, (_, i) => 500_000 + i * 100);
    const perClient = [fast, slow].map((c) => summarise(decode(histogramOf(c)))!);
    const averagedP99 = (perClient[0]!.p99 + perClient[1]!.p99) / 2;
    const averagedP999 = (perClient[0]!.p999 + perClient[1]!.p999) / 2;

    const merged = summarise(merge([fast, slow].map(histogramOf)))!;
    const all = [...fast, ...slow].sort((a, b) => a - b);
    expectClose(merged.p99, bruteForce(all, 99));
    expectClose(merged.p999, bruteForce(all, 99.9));

    // 99% of all replies were fast: the true p99 is a few ms, the average of p99s claims ~250 ms.
    expect(merged.p99).toBeLessThan(6);
    expect(averagedP99).toBeGreaterThan(200);
    // The true p99.9 is in the slow tail (500 ms); the average halves it.
    expect(merged.p999).toBeGreaterThan(499);
    expect(averagedP999).toBeLessThan(300);
  });

  it("is order independent", () => {
    const parts = [samples(6, 1000, 3000), samples(7, 1000, 9000), samples(8, 1000, 500)].map(histogramOf);
    const a = summarise(merge(parts));
    const b = summarise(merge([...parts].reverse()));
    expect(b).toEqual(a);
  });
});
