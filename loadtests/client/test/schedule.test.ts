import { describe, expect, it } from "vitest";
import { buildOpenSchedule, connectionOf } from "../src/schedule.js";

describe("open-model schedule", () => {
  it("spaces sends at 1/rate from the start, all before the end", () => {
    const s = buildOpenSchedule({ rate: 200, startAt: 1000, endAt: 3000, connections: 1, weights: [1] });
    expect(s.times.length).toBe(400);
    expect(s.times[0]).toBe(1000);
    expect(s.times[1]).toBeCloseTo(1005, 9);
    expect(s.times[399]).toBeCloseTo(2995, 9);
    for (let i = 1; i < s.times.length; i++) expect((s.times[i] as number) - (s.times[i - 1] as number)).toBeCloseTo(5, 9);
  });
  it("handles fractional rates and an offset that interleaves a fleet", () => {
    const a = buildOpenSchedule({ rate: 2.5, startAt: 0, endAt: 10_000, connections: 1, weights: [1] });
    expect(a.times.length).toBe(25);
    expect(a.times[1]).toBeCloseTo(400, 9);
    const b = buildOpenSchedule({ rate: 2.5, startAt: 0, endAt: 10_000, connections: 1, weights: [1], offset: 0.5 });
    expect(b.times.length).toBe(25);
    expect(b.times[0]).toBeCloseTo(200, 9);
    expect(b.times[24]).toBeLessThan(10_000);
    // client k of n at rate r/n: together, evenly spaced at r
    const n = 4;
    const all = Array.from({ length: n }, (_, k) =>
      Array.from(buildOpenSchedule({ rate: 100 / n, startAt: 0, endAt: 1000, connections: 1, weights: [1], offset: k / n }).times),
    )
      .flat()
      .sort((x, y) => x - y);
    expect(all.length).toBe(100);
    for (let i = 1; i < all.length; i++) expect((all[i] as number) - (all[i - 1] as number)).toBeCloseTo(10, 6);
  });
  it("spreads requests over connections round robin and follows the mix weights", () => {
    const s = buildOpenSchedule({ rate: 1000, startAt: 0, endAt: 1000, connections: 3, weights: [9, 1] });
    expect([0, 1, 2, 3, 4].map((i) => connectionOf(s, i))).toEqual([0, 1, 2, 0, 1]);
    const counts = [0, 0];
    for (const m of s.mixIndex) counts[m]!++;
    expect(counts).toEqual([900, 100]);
  });
  it("rejects nonsense", () => {
    expect(() => buildOpenSchedule({ rate: 0, startAt: 0, endAt: 1, connections: 1, weights: [1] })).toThrow();
    expect(() => buildOpenSchedule({ rate: 1, startAt: 0, endAt: 1, connections: 0, weights: [1] })).toThrow();
    expect(() => buildOpenSchedule({ rate: 1, startAt: 0, endAt: 1, connections: 1, weights: [1], offset: 1 })).toThrow();
    expect(() => buildOpenSchedule({ rate: 1e9, startAt: 0, endAt: 3_600_000, connections: 1, weights: [1] })).toThrow(/over/);
  });
});
