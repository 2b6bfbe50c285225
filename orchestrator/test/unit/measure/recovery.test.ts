import { describe, expect, it } from "vitest";
import type { EventRecord } from "../../../src/events/record.js";
import { eventOutcomes, NO_REPLY_KINDS } from "../../../src/measure/recovery.js";
import type { GroupSeries, TimeSeries } from "../../../src/measure/timeseries.js";
import { histogramOf } from "../fixtures.js";

const T0 = 1_700_000_000_000;

/** A series of one open-model group at 100 req/s, p99 10 ms, with the given seconds overridden. */
function seriesOf(n: number, over: Record<number, { ok?: number; p99?: number | null; errors?: Record<string, number> }> = {}): TimeSeries {
  const g: GroupSeries = {
    group: "main",
    loadModel: "open",
    ok: [],
    errors: [],
    errorsByKind: {},
    p50: [],
    p99: [],
    clientsWithIntervals: 1,
    clients: 1,
  };
  for (let i = 0; i < n; i++) {
    const o = over[i] ?? {};
    g.ok.push(o.ok ?? 100);
    g.p99.push(o.p99 === undefined ? 10 : o.p99);
    g.p50.push(5);
    let errors = 0;
    for (const [k, v] of Object.entries(o.errors ?? {})) {
      (g.errorsByKind[k] ??= Array(n).fill(0))[i] = v;
      errors += v;
    }
    g.errors.push(errors);
  }
  const nulls = Array(n).fill(null);
  const role = { cores: nulls, throttledShare: nulls, memoryBytes: nulls, pids: nulls, restarts: Array(n).fill(0), running: nulls };
  return { startedAt: T0, seconds: n, groups: [g], model: role, front: role, healthyReplicas: nulls, notes: [] };
}

function event(atMs: number, over: Partial<EventRecord> = {}): EventRecord {
  return {
    index: 0,
    action: "kill-worker",
    plannedAt: T0 + atMs,
    startedAt: T0 + atMs,
    endedAt: T0 + atMs + 5,
    detail: "kill -9",
    ...over,
  };
}

describe("eventOutcomes", () => {
  it("a dip and a return: time to recover runs from the event to the first of 3 healthy seconds", () => {
    // Event at 10.2 s; seconds 10-12 degraded, healthy from 13.
    const ts = seriesOf(20, {
      10: { ok: 70, p99: 300, errors: { reset: 20, http_5xx: 10 } },
      11: { ok: 50, p99: 900, errors: { closed: 5, timeout: 3 } },
      12: { ok: 97, p99: 25 }, // throughput back, p99 still above 2x
    });
    const [o] = eventOutcomes(ts, [event(10_200)]);
    const g = o!.groups[0]!;
    expect(g.verdict).toBe("recovered");
    expect(g.recoveredAtSecond).toBe(13);
    expect(g.recoveryMs).toBe(2800);
    expect(g.baseline).toEqual({ seconds: 9, throughput: 100, p99: 10 });
    expect(g.errors).toEqual({ reset: 20, http_5xx: 10, closed: 5, timeout: 3 });
    expect(g.errorsTotal).toBe(38);
    expect(g.noReply).toEqual({ reset: 20, closed: 5, timeout: 3 });
    expect(g.noReplyTotal).toBe(28);
    expect(g.window).toEqual({ fromSecond: 10, toSecond: 16 });
    expect(g.worstSecond).toEqual({ second: 10, errors: 30, ok: 70, p99: 300 });
    expect(o!.atSecond).toBeCloseTo(10.2);
  });

  it("a dip with no return: did not recover, and the errors run to the window's end", () => {
    const over: Record<number, { ok: number; errors?: Record<string, number> }> = {};
    for (let i = 5; i < 12; i++) over[i] = { ok: 40, errors: { closed_behind_timeout: 1 } };
    const [o] = eventOutcomes(seriesOf(12, over), [event(5000)]);
    const g = o!.groups[0]!;
    expect(g.verdict).toBe("did not recover");
    expect(g.recoveryMs).toBeNull();
    expect(g.window).toEqual({ fromSecond: 5, toSecond: 12 });
    expect(g.noReply).toEqual({ closed_behind_timeout: 7 });
  });

  it("needs 3 healthy seconds in a row: 2 then a relapse do not count", () => {
    const ts = seriesOf(20, { 8: { ok: 0, p99: null }, 9: { ok: 100 }, 10: { ok: 100 }, 11: { ok: 80 }, 12: { ok: 104 } });
    const g = eventOutcomes(ts, [event(8000)])[0]!.groups[0]!;
    expect(g.recoveredAtSecond).toBe(12);
    expect(g.recoveryMs).toBe(4000);
    // within 5 %: 95 and 105 are healthy, 94 is not
    const edge = seriesOf(20, {
      8: { ok: 0, p99: null },
      9: { ok: 95 },
      10: { ok: 105 },
      11: { ok: 94 },
      12: { ok: 95 },
      13: { ok: 105 },
      14: { ok: 100 },
    });
    expect(eventOutcomes(edge, [event(8000)])[0]!.groups[0]!.recoveredAtSecond).toBe(12);
  });

  it("at a few requests per second, one request more or fewer is still within the tolerance", () => {
    const slow: Record<number, { ok: number }> = {};
    for (let i = 0; i < 20; i++) slow[i] = { ok: i % 2 === 0 ? 7 : 8 };
    slow[10] = { ok: 0 };
    const g = eventOutcomes(seriesOf(20, slow), [event(10_000)])[0]!.groups[0]!;
    expect(g.baseline.throughput).toBeCloseTo(68 / 9, 6); // seconds 1-9: 8, 7, 8, ...; 5 % of it is 0.38
    expect(g.recoveredAtSecond).toBe(11);
  });

  it("an event without effect recovers at once", () => {
    const g = eventOutcomes(seriesOf(20), [event(10_000)])[0]!.groups[0]!;
    expect(g.verdict).toBe("recovered");
    expect(g.recoveryMs).toBe(0);
    expect(g.errorsTotal).toBe(0);
  });

  it("the baseline leaves out second 0 and the seconds before the event only", () => {
    // A cold second 0 (10 ok, p99 500 ms) would drag the mean down; after the event nothing counts.
    const ts = seriesOf(20, { 0: { ok: 10, p99: 500 }, 6: { ok: 0, p99: null }, 7: { ok: 200, p99: 10 } });
    const g = eventOutcomes(ts, [event(6000)])[0]!.groups[0]!;
    expect(g.baseline).toEqual({ seconds: 5, throughput: 100, p99: 10 });
    expect(g.recoveredAtSecond).toBe(8);
  });

  it("with the seconds' histograms, the baseline p99 is that of their merge", () => {
    const ts = seriesOf(6);
    // seconds 1-4: 99 at 1 ms in each but one slow request in second 2: the merged p99 is 1 ms,
    // while the median of the per-second p99s given in the series is 10 ms.
    const h = [0, 1, 2, 3, 4, 5].map((i) => histogramOf([...Array(99).fill(1000), i === 2 ? 500_000 : 1000]));
    const g = eventOutcomes(ts, [event(5000)], { main: h })[0]!.groups[0]!;
    expect(g.baseline.p99).toBeCloseTo(1, 1);
  });

  it("an earlier event's disturbed seconds are left out of a later event's baseline", () => {
    const ts = seriesOf(30, { 5: { ok: 0, p99: null }, 6: { ok: 0, p99: null }, 20: { ok: 50, p99: 50 } });
    const [first, second] = eventOutcomes(ts, [event(5000), event(20_000, { index: 1, action: "noise" })]);
    expect(first!.groups[0]!.recoveredAtSecond).toBe(7);
    // baseline of the second: seconds 1-4 and 10-19 (5-9 were the first event's window)
    expect(second!.groups[0]!.baseline).toEqual({ seconds: 14, throughput: 100, p99: 10 });
    expect(second!.groups[0]!.recoveredAtSecond).toBe(21);
  });

  it("recovery is looked for only once the action is over (a rolling restart)", () => {
    const ts = seriesOf(30, { 12: { ok: 60, errors: { http_5xx: 40 } }, 16: { ok: 90, errors: { reset: 10 } } });
    const rr = event(10_000, { action: "rolling-restart", endedAt: T0 + 18_500 });
    const g = eventOutcomes(ts, [rr])[0]!.groups[0]!;
    expect(g.recoveredAtSecond).toBe(18);
    expect(g.recoveryMs).toBe(8000);
    expect(g.errorsTotal).toBe(50);
    expect(g.worstSecond).toMatchObject({ second: 12, errors: 40 });
  });

  it("scale events carry the record's capacity serving time; no baseline is said so", () => {
    const scale = event(0, { action: "scale", capacityServingMs: 1800 });
    const [o] = eventOutcomes(seriesOf(10), [scale]);
    expect(o!.capacityServingMs).toBe(1800);
    expect(o!.groups[0]!.verdict).toBe("no baseline");
    expect(eventOutcomes(seriesOf(10), [event(3000)])[0]!.capacityServingMs).toBeUndefined();
    expect(eventOutcomes(seriesOf(10), [event(60_000)])[0]!.groups[0]!.verdict).toBe("outside the window");
  });

  it("carries when a killed worker's replacement was there, and what became of a hung request", () => {
    const [kill, hang] = eventOutcomes(seriesOf(10), [
      event(3000, { recoveredAt: T0 + 3800 }),
      event(6000, { index: 1, action: "hang", outcome: "cut" }),
    ]);
    expect(kill!.replacementMs).toBe(800);
    expect(hang!.outcome).toBe("cut");
    expect(hang!.replacementMs).toBeUndefined();
  });

  it("names the kinds that mean no reply", () => {
    expect([...NO_REPLY_KINDS].sort()).toEqual(["closed", "closed_behind_timeout", "reset", "timeout"]);
  });
});
