import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../contract/random.js";
import { buildOpenSchedule } from "../src/schedule.js";

describe("open-model schedule", () => {
  it("spaces sends at 1/rate from the start, all before the end", () => {
    const s = buildOpenSchedule({ rate: 200, startAt: 1000, endAt: 3000, weights: [1] });
    expect(s.times.length).toBe(400);
    expect(s.times[0]).toBe(1000);
    expect(s.times[1]).toBeCloseTo(1005, 9);
    expect(s.times[399]).toBeCloseTo(2995, 9);
    for (let i = 1; i < s.times.length; i++) expect((s.times[i] as number) - (s.times[i - 1] as number)).toBeCloseTo(5, 9);
    // the metronome thread reads it without a copy
    expect(s.times.buffer).toBeInstanceOf(SharedArrayBuffer);
  });
  it("handles fractional rates and an offset that interleaves a fleet", () => {
    const a = buildOpenSchedule({ rate: 2.5, startAt: 0, endAt: 10_000, weights: [1] });
    expect(a.times.length).toBe(25);
    expect(a.times[1]).toBeCloseTo(400, 9);
    const b = buildOpenSchedule({ rate: 2.5, startAt: 0, endAt: 10_000, weights: [1], offset: 0.5 });
    expect(b.times.length).toBe(25);
    expect(b.times[0]).toBeCloseTo(200, 9);
    expect(b.times[24]).toBeLessThan(10_000);
    // client k of n at rate r/n: together, evenly spaced at r
    const n = 4;
    const all = Array.from({ length: n }, (_, k) =>
      Array.from(buildOpenSchedule({ rate: 100 / n, startAt: 0, endAt: 1000, weights: [1], offset: k / n }).times),
    )
      .flat()
      .sort((x, y) => x - y);
    expect(all.length).toBe(100);
    for (let i = 1; i < all.length; i++) expect((all[i] as number) - (all[i - 1] as number)).toBeCloseTo(10, 6);
  });
  it("follows the mix weights", () => {
    const s = buildOpenSchedule({ rate: 1000, startAt: 0, endAt: 1000, weights: [9, 1] });
    const counts = [0, 0];
    for (const m of s.mixIndex) counts[m]!++;
    expect(counts).toEqual([900, 100]);
  });
  it("draws Poisson arrivals from the seed: exponential gaps of mean 1/rate, reproducible", () => {
    const rate = 2000;
    const s = buildOpenSchedule({ rate, startAt: 0, endAt: 20_000, weights: [1], arrivals: "poisson", seed: 7 });
    const n = s.times.length;
    // 40,000 expected; Poisson sd = 200
    expect(Math.abs(n - 40_000)).toBeLessThan(1000);
    const gaps: number[] = [];
    for (let i = 1; i < n; i++) gaps.push((s.times[i] as number) - (s.times[i - 1] as number));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(0);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((a, b) => a + (b - mean) ** 2, 0) / gaps.length);
    expect(mean).toBeCloseTo(0.5, 1);
    // exponential: coefficient of variation 1 (uniform: 0); P(gap > mean) = 1/e
    expect(sd / mean).toBeGreaterThan(0.95);
    expect(sd / mean).toBeLessThan(1.05);
    const overMean = gaps.filter((g) => g > 0.5).length / gaps.length;
    expect(overMean).toBeGreaterThan(Math.exp(-1) - 0.02);
    expect(overMean).toBeLessThan(Math.exp(-1) + 0.02);
    // counts per 100 ms: Poisson, variance = mean = 200
    const bins = new Array<number>(200).fill(0);
    for (const t of s.times) bins[Math.floor(t / 100)]!++;
    const bm = bins.reduce((a, b) => a + b, 0) / bins.length;
    const bv = bins.reduce((a, b) => a + (b - bm) ** 2, 0) / bins.length;
    expect(bv / bm).toBeGreaterThan(0.7);
    expect(bv / bm).toBeLessThan(1.3);
    // the same seed, the same arrivals; another seed, others
    const again = buildOpenSchedule({ rate, startAt: 0, endAt: 20_000, weights: [1], arrivals: "poisson", seed: 7 });
    expect(Array.from(again.times)).toEqual(Array.from(s.times));
    const other = buildOpenSchedule({ rate, startAt: 0, endAt: 20_000, weights: [1], arrivals: "poisson", seed: 8 });
    expect(other.times[0]).not.toBe(s.times[0]);
    expect(s.times[n - 1]).toBeLessThan(20_000);
  });
  it("rejects nonsense", () => {
    expect(() => buildOpenSchedule({ rate: 0, startAt: 0, endAt: 1, weights: [1] })).toThrow();
    expect(() => buildOpenSchedule({ rate: 1, startAt: 0, endAt: 1, weights: [1], offset: 1 })).toThrow();
    expect(() => buildOpenSchedule({ rate: 1e9, startAt: 0, endAt: 3_600_000, weights: [1] })).toThrow(/over/);
    expect(() => buildOpenSchedule({ rate: 1e9, startAt: 0, endAt: 3_600_000, weights: [1], arrivals: "poisson" })).toThrow(/over/);
  });
});

describe("mulberry32 (loadtests/contract/random.ts)", () => {
  it("is deterministic and in [0, 1)", () => {
    const a = mulberry32(2015);
    const b = mulberry32(2015);
    for (let i = 0; i < 1000; i++) {
      const x = a();
      expect(x).toBe(b());
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });
});
