import { describe, expect, it } from "vitest";
import type { Interval } from "../../../../loadtests/contract/result.js";
import { decode } from "../../../src/measure/histogram.js";
import { buildTimeSeries, type ContainerSeries } from "../../../src/measure/timeseries.js";
import { clientResult, histogramOf } from "../fixtures.js";

const T0 = 1_700_000_000_000;

function interval(t: number, latenciesUs: number[], errors: Record<string, number> = {}, workers?: Record<string, number>): Interval {
  return { t, ok: latenciesUs.length, errors, histogram: histogramOf(latenciesUs), ...(workers ? { workers } : {}) };
}

describe("buildTimeSeries: client intervals", () => {
  // Second 0: client 0 has 98 fast replies, client 1 has 2 slow ones. Each client's own p99 is
  // 1 ms and 100 ms; the p99 of the merged second is 100 ms only if the histograms are added.
  const fast = Array(98).fill(1000);
  const slow = [100_000, 100_000];
  const a = clientResult({
    clientIndex: 0,
    startedAt: T0,
    endedAt: T0 + 2000,
    intervals: [interval(T0, fast, { reset: 1 }), interval(T0 + 1000, [2000])],
  });
  const b = clientResult({
    clientIndex: 1,
    startedAt: T0,
    endedAt: T0 + 2000,
    intervals: [interval(T0, slow, { reset: 2, timeout: 1 }), interval(T0 + 1000, [])],
  });
  const { series, histograms } = buildTimeSeries({
    startedAt: T0,
    durationMs: 2000,
    groups: [{ group: "main", loadModel: "open", results: [a, b] }],
  });
  const g = series.groups[0]!;

  it("adds the clients' counts second by second", () => {
    expect(series.seconds).toBe(2);
    expect(g.ok).toEqual([100, 1]);
    expect(g.errorsByKind).toEqual({ reset: [3, 0], timeout: [1, 0] });
    expect(g.errors).toEqual([4, 0]);
  });

  it("reads percentiles from the merged histogram, never from the clients' own", () => {
    // 100 values, 2 at 100 ms: the 99th percentile is 100 ms (a mean of the two p99s would be ~50 ms).
    expect(g.p99[0]).toBeCloseTo(100, 0);
    expect(g.p50[0]).toBeCloseTo(1, 1);
    expect(g.p99[1]).toBeCloseTo(2, 1);
    expect(decode(histograms.main![0]!).totalCount).toBe(100);
  });

  it("a second without an ok reply has no latency, not a latency of 0", () => {
    const { series: s } = buildTimeSeries({
      startedAt: T0,
      durationMs: 1000,
      groups: [{ group: "main", loadModel: "open", results: [clientResult({ intervals: [interval(T0, [], { closed: 5 })] })] }],
    });
    expect(s.groups[0]!.p99).toEqual([null]);
    expect(s.groups[0]!.errors).toEqual([5]);
  });

  it("aligns k6's whole epoch seconds to the nearest window second; the edges fold in", () => {
    const start = T0 + 300; // the window starts 300 ms into an epoch second
    const k6 = clientResult({
      startedAt: start,
      endedAt: start + 3000,
      intervals: [interval(T0, [1000]), interval(T0 + 1000, [1000, 1000]), interval(T0 + 2000, [1000]), interval(T0 + 3000, [1000])],
    });
    const { series: s } = buildTimeSeries({
      startedAt: start,
      durationMs: 3000,
      groups: [{ group: "main", loadModel: "open", results: [k6] }],
    });
    expect(s.groups[0]!.ok).toEqual([1, 2, 2]);
    expect(s.groups[0]!.ok.reduce((x, y) => x + y, 0)).toBe(5);
  });

  it("counts distinct X-Worker values per second where the intervals carry them", () => {
    const c = clientResult({
      intervals: [interval(T0, [1000, 1000], {}, { "a/1": 1, "b/7": 1 }), interval(T0 + 1000, [1000], {}, { "a/1": 1 })],
    });
    const { series: s } = buildTimeSeries({
      startedAt: T0,
      durationMs: 2000,
      groups: [{ group: "main", loadModel: "open", results: [c] }],
    });
    expect(s.groups[0]!.workers).toEqual([2, 1]);
  });

  it("says when the seconds do not add up to the clients' totals", () => {
    const c = clientResult({ requests: { sent: 10, completed: 10, ok: 10 }, intervals: [interval(T0, [1000])] });
    const { series: s } = buildTimeSeries({
      startedAt: T0,
      durationMs: 1000,
      groups: [{ group: "main", loadModel: "open", results: [c] }],
    });
    expect(s.notes.join()).toMatch(/hold 1 ok replies, the clients' totals 10/);
  });
});

describe("buildTimeSeries: container series", () => {
  const sample = (t: number, cpuSeconds: number, extra: Partial<ContainerSeries["samples"][number]> = {}) => ({
    t,
    running: true,
    dtMs: 1000,
    cpuSeconds,
    periods: 10,
    throttledPeriods: 2,
    memoryBytes: 100,
    pids: 5,
    restarts: 0,
    ...extra,
  });
  const m1: ContainerSeries = {
    id: "1",
    name: "m-1",
    role: "model",
    samples: [sample(T0 + 1000, 0.5), sample(T0 + 2000, 0.25), sample(T0 + 3000, 0.5, { restarts: 1 })],
  };
  // A replica that appears in second 1 (a scale event): its first sample only says it runs.
  const m2: ContainerSeries = {
    id: "2",
    name: "m-2",
    role: "model",
    samples: [sample(T0 + 1500, 0, { dtMs: 0, pids: 3 }), sample(T0 + 2500, 1)],
  };
  const front: ContainerSeries = { id: "3", name: "front", role: "front", samples: [sample(T0 + 1000, 0.1)] };
  const { series } = buildTimeSeries({
    startedAt: T0,
    durationMs: 3000,
    groups: [],
    containers: [m1, m2, front],
    replicas: [
      { t: T0 + 100, running: 1, healthy: 1 },
      { t: T0 + 1600, running: 2, healthy: 1 },
      { t: T0 + 2600, running: 2, healthy: 2 },
    ],
  });

  it("CPU per second is each container's rate over the time its samples covered, summed", () => {
    // A sample covers (t - dt, t]: it counts in the second its middle is in.
    expect(series.model.cores).toEqual([0.5, 0.25, 0.5 + 1]);
    expect(series.front.cores).toEqual([0.1, null, null]);
    expect(series.model.throttledShare).toEqual([0.2, 0.2, 0.2]);
  });

  it("memory and processes sum over the containers running in the second", () => {
    expect(series.model.pids).toEqual([5, 5 + 3, 5 + 5]);
    expect(series.model.memoryBytes).toEqual([100, 200, 200]);
  });

  it("restarts show in the second they were first seen; replicas from the ticks", () => {
    expect(series.model.restarts).toEqual([0, 0, 1]);
    expect(series.model.running).toEqual([1, 2, 2]);
    expect(series.healthyReplicas).toEqual([1, 1, 2]);
  });
});
