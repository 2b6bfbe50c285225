import { describe, expect, it } from "vitest";
import { mean, populationCv, sampleStats, sampleStdev, tCritical95 } from "../../../src/measure/stats.js";

describe("statistics across repeats", () => {
  const data = [2, 4, 4, 4, 5, 5, 7, 9];

  it("mean and sample standard deviation (n - 1)", () => {
    expect(mean(data)).toBe(5);
    expect(sampleStdev(data)).toBeCloseTo(Math.sqrt(32 / 7), 10); // population sd would be 2
  });

  it("95% confidence interval with Student's t", () => {
    const s = sampleStats(data);
    const half = (2.365 * Math.sqrt(32 / 7)) / Math.sqrt(8);
    expect(s.n).toBe(8);
    expect(s.ci95!.halfWidth).toBeCloseTo(half, 10);
    expect(s.ci95!.low).toBeCloseTo(5 - half, 10);
    expect(s.ci95!.high).toBeCloseTo(5 + half, 10);
    expect(s.cv).toBeCloseTo(Math.sqrt(32 / 7) / 5, 10);
    expect([s.min, s.max]).toEqual([2, 9]);
  });

  it("three repeats: the interval is wide, as it should be", () => {
    const s = sampleStats([100, 110, 120]);
    expect(s.stdev).toBeCloseTo(10, 10);
    expect(s.ci95!.halfWidth).toBeCloseTo((4.303 * 10) / Math.sqrt(3), 10);
  });

  it("one value has no spread; no values have nothing", () => {
    expect(sampleStats([7])).toEqual({ n: 1, mean: 7, stdev: null, cv: null, min: 7, max: 7, ci95: null });
    expect(sampleStats([])).toEqual({ n: 0, mean: null, stdev: null, cv: null, min: null, max: null, ci95: null });
  });

  it("a mean of zero has no CV", () => {
    expect(sampleStats([-1, 1]).cv).toBeNull();
  });

  it("t table: exact rows, conservative between rows, normal beyond", () => {
    expect(tCritical95(1)).toBe(12.706);
    expect(tCritical95(4)).toBe(2.776);
    expect(tCritical95(30)).toBe(2.042);
    expect(tCritical95(35)).toBe(2.042);
    expect(tCritical95(100)).toBe(2.0);
    expect(tCritical95(1000)).toBe(1.96);
    expect(() => tCritical95(0)).toThrow();
  });

  it("population CV for shares of work", () => {
    expect(populationCv([10, 10, 10])).toBe(0);
    expect(populationCv([0, 20])).toBe(1);
    expect(populationCv([])).toBeNull();
  });
});
