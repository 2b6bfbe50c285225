import { describe, expect, it } from "vitest";
import { CellSummarySchema, evenness, summariseCell, type CellInput } from "../../../src/measure/cell-summary.js";
import type { ContainerStats } from "../../../src/measure/container-stats.js";
import { cellMemory, containerMemory } from "../../../src/measure/memory.js";
import { decode, summarise } from "../../../src/measure/histogram.js";
import { CLIENT_CPU_SHARE, CLIENT_THROTTLED_SHARE, MACHINE_BUSY_CORES } from "../../../src/measure/thresholds.js";
import { expandScenario } from "../../../src/scenario/expand.js";
import { clientResult, histogramOf, hostOf, validScenario } from "../fixtures.js";

const scenario = validScenario();
// 2 replicas x 0.5 cpu; groups: main (open 50/s, k6, 2 clients), probe (closed 4 conn, autocannon).
const cell = expandScenario(scenario).cells.find((c) => c.id === "py-threads.2x0p5cpu.fib30.r1")!;
const T0 = 1_700_000_000_000;

function input(over: Partial<CellInput> = {}): CellInput {
  return {
    cell,
    results: [
      clientResult({ group: "main", clientIndex: 0, startedAt: T0, endedAt: T0 + 20_000, latenciesUs: Array(500).fill(2000) }),
      clientResult({ group: "main", clientIndex: 1, startedAt: T0 + 100, endedAt: T0 + 20_100, latenciesUs: Array(500).fill(4000) }),
      clientResult({
        group: "probe",
        tool: "autocannon",
        loadModel: "closed",
        startedAt: T0,
        endedAt: T0 + 20_000,
        latenciesUs: Array(2000).fill(1000),
      }),
    ],
    ...over,
  };
}

describe("summariseCell", () => {
  it("throughput is ok replies over the union of the client windows", () => {
    const s = summariseCell(input());
    const main = s.groups.find((g) => g.group === "main")!;
    expect(main.window).toEqual({ startedAt: T0, endedAt: T0 + 20_100, ms: 20_100, overlapMs: 19_900, skewMs: 200 });
    expect(main.notes.join()).not.toMatch(/misaligned/); // 1% is within tolerance
    expect(main.requests).toEqual({ sent: 1000, completed: 1000, ok: 1000 });
    expect(main.throughput).toBeCloseTo(1000 / 20.1, 10);
    expect(main.loadModel).toBe("open");
    expect(main.tool).toBe("k6");
    expect(main.latency!.count).toBe(1000);
    expect(main.latency!.p50).toBeCloseTo(2, 2);
    expect(main.latency!.max).toBeCloseTo(4, 2);
    const probe = s.groups.find((g) => g.group === "probe")!;
    expect(probe.loadModel).toBe("closed");
    expect(probe.throughput).toBeCloseTo(100, 10);
  });

  it("sums errors by kind and dropped over clients", () => {
    const s = summariseCell(
      input({
        results: [
          clientResult({ group: "main", clientIndex: 0, errors: { reset: 2, timeout: 1 }, dropped: 3 }),
          clientResult({ group: "main", clientIndex: 1, errors: { reset: 5, http_5xx: 4 }, dropped: 0 }),
        ],
      }),
    );
    const main = s.groups[0]!;
    expect(main.errors).toEqual({ reset: 7, timeout: 1, http_5xx: 4 });
    expect(main.errorsTotal).toBe(12);
    expect(main.dropped).toBe(3);
  });

  it("flags an open model that dropped requests", () => {
    const results = [
      clientResult({ group: "main", clientIndex: 0, requests: { sent: 500, completed: 500, ok: 500 }, dropped: 1 }),
      clientResult({ group: "main", clientIndex: 1, requests: { sent: 500, completed: 500, ok: 500 } }),
    ];
    const main = summariseCell(input({ results })).groups[0]!;
    expect(main.plannedSends).toBe(1000); // 50 req/s x 20 s
    expect(main.loadNotDelivered).toBe(true);
    expect(main.notes.join()).toMatch(/load not delivered/);
  });

  it("flags an open model that sent under 99% of the plan even with nothing dropped", () => {
    const sent = (n: number) => [
      clientResult({ group: "main", clientIndex: 0, requests: { sent: n, completed: n, ok: n } }),
      clientResult({ group: "main", clientIndex: 1, requests: { sent: 500, completed: 500, ok: 500 } }),
    ];
    expect(summariseCell(input({ results: sent(489) })).groups[0]!.loadNotDelivered).toBe(true); // 989 < 990
    expect(summariseCell(input({ results: sent(490) })).groups[0]!.loadNotDelivered).toBe(false); // 990
  });

  it("never flags the closed model, whatever it sent", () => {
    const results = [
      clientResult({ group: "probe", tool: "autocannon", loadModel: "closed", requests: { sent: 3, completed: 3, ok: 3 }, dropped: 0 }),
    ];
    expect(summariseCell(input({ results })).groups[1]!.loadNotDelivered).toBe(false);
  });

  it("a missing client is noted and lowers the sends", () => {
    const s = summariseCell(input({ results: [clientResult({ group: "main", clientIndex: 0 })] }));
    expect(s.groups[0]!.clients).toEqual({ expected: 2, reported: 1, cpus: 0.5, usage: [] });
    expect(s.groups[0]!.notes).toContain("1 of 2 clients reported");
    expect(s.groups[0]!.loadNotDelivered).toBe(true);
    const probe = s.groups[1]!;
    expect(probe.window).toBeNull();
    expect(probe.throughput).toBeNull();
    expect(probe.latency).toBeNull();
  });

  it("merges X-Worker counts and measures evenness over processes and replicas", () => {
    const results = [
      clientResult({ group: "main", clientIndex: 0, workers: { "a/1/t1": 100, "a/1/t2": 100, "b/7": 150 } }),
      clientResult({ group: "main", clientIndex: 1, workers: { "a/1/t1": 50, "b/7": 50, "b/8": 50 } }),
    ];
    const w = summariseCell(input({ results })).groups[0]!.workers;
    expect(w.counts).toEqual({ "a/1/t1": 150, "a/1/t2": 100, "b/7": 200, "b/8": 50 });
    // replicas a: 250, b: 250 -> even
    expect(w.byReplica).toMatchObject({ units: 2, minShare: 0.5, maxShare: 0.5, maxMinRatio: 1, cv: 0 });
    // processes a/1: 250, b/7: 200, b/8: 50
    expect(w.byProcess!.units).toBe(3);
    expect(w.byProcess!.maxMinRatio).toBe(5);
    expect(w.byProcess!.minShare).toBe(0.1);
    expect(w.byProcess!.cv).toBeGreaterThan(0.5);
  });

  it("counts a replica that never answered as zero", () => {
    const results = [clientResult({ group: "main", workers: { "a/1": 300 } })];
    const g = summariseCell(input({ results })).groups[0]!;
    expect(g.workers.byReplica).toMatchObject({ units: 2, minShare: 0, maxShare: 1, maxMinRatio: null });
    expect(g.notes).toContain("only 1 of 2 replicas answered");
  });

  it("max/mean: the busiest unit's count over the mean count, 1 when even", () => {
    expect(evenness({ a: 100, b: 100, c: 100 })!.maxMeanRatio).toBe(1);
    // 300, 200, 100: mean 200, max 300
    expect(evenness({ a: 300, b: 200, c: 100 })!.maxMeanRatio).toBeCloseTo(1.5, 12);
    // one of four units did everything: max/mean is the number of units
    expect(evenness({ a: 400 }, 4)!.maxMeanRatio).toBe(4);
    const results = [clientResult({ group: "main", workers: { "a/1/t1": 150, "a/1/t2": 150, "b/7": 200, "b/8": 100 } })];
    const w = summariseCell(input({ results })).groups[0]!.workers;
    // processes a/1: 300, b/7: 200, b/8: 100 (threads rolled up); replicas a 300, b 300
    expect(w.byProcess!.maxMeanRatio).toBeCloseTo(1.5, 12);
    expect(w.byReplica!.maxMeanRatio).toBe(1);
  });

  it("an older summary without max/mean still loads", () => {
    const s = JSON.parse(JSON.stringify(summariseCell(input({ results: [clientResult({ group: "main", workers: { "a/1": 3 } })] }))));
    delete s.groups[0].workers.byProcess.maxMeanRatio;
    delete s.memory;
    const back = CellSummarySchema.parse(s);
    expect(back.groups[0]!.workers.byProcess!.maxMeanRatio).toBeUndefined();
    expect(back.memory).toBeNull();
  });

  it("carries the model's memory reading and notes processes it could not read", () => {
    const memory = cellMemory(
      [
        containerMemory(
          "m-1",
          [
            { pid: 5, text: "Rss: 200 kB\nPss: 100 kB\n" },
            { pid: 6, text: null },
          ],
          1e6,
        ),
      ],
      T0,
    );
    const s = summariseCell(input({ memory }));
    expect(s.memory).toEqual(memory);
    expect(s.memory!.pssBytes).toBe(100 * 1024);
    expect(s.notes).toContain("memory: 1 model process(es) vanished or were unreadable at the reading; PSS sums the other 1");
    expect(summariseCell(input()).memory).toBeNull();
  });

  it("TCP (no X-Worker) has no evenness", () => {
    expect(summariseCell(input()).groups[0]!.workers).toEqual({ counts: {}, byReplica: null, byProcess: null });
    expect(evenness({})).toBeNull();
  });

  it("notes misaligned client windows", () => {
    const results = [
      clientResult({ group: "main", clientIndex: 0, startedAt: T0, endedAt: T0 + 20_000 }),
      clientResult({ group: "main", clientIndex: 1, startedAt: T0 + 2_000, endedAt: T0 + 22_000 }),
    ];
    expect(summariseCell(input({ results })).groups[0]!.notes.join()).toMatch(
      /misaligned: 22000 ms from first start to last end, only 18000 ms in common/,
    );
  });

  it("carries client notes once, and the load model of every figure", () => {
    const note = "autocannon records latency with 1 ms resolution";
    const results = [
      clientResult({ group: "probe", tool: "autocannon", loadModel: "closed", notes: [note] }),
      clientResult({ group: "probe", tool: "autocannon", loadModel: "closed", clientIndex: 1, notes: [note] }),
    ];
    const probe = summariseCell(input({ results })).groups[1]!;
    expect(probe.notes.filter((n) => n === note)).toHaveLength(1);
    expect(probe.load).toEqual({ model: "closed", connections: 4, pipelining: 1 });
  });

  it("summarises container CPU, throttling, memory and restarts per role", () => {
    const c = (
      name: string,
      role: ContainerStats["role"],
      cpuSeconds: number,
      throttled: number,
      total: number,
      mem: number,
      restarts = 0,
    ): ContainerStats => ({
      name,
      role,
      cpuSeconds,
      throttledPeriods: throttled,
      totalPeriods: total,
      throttledSeconds: throttled * 0.01,
      memoryPeakBytes: mem,
      restarts,
    });
    const containers = [
      c("m1", "model", 9, 50, 200, 100e6),
      c("m2", "model", 10, 150, 200, 150e6, 1),
      c("front", "front", 2, 0, 200, 20e6),
    ];
    const s = summariseCell(input({ containers, containersWindowMs: 20_000 }));
    expect(s.usage.model).toMatchObject({
      containers: 2,
      cpuSeconds: 19,
      cores: 0.95,
      throttledPct: 50,
      memoryPeakBytes: 150e6,
      restarts: 1,
    });
    expect(s.usage.front.cores).toBeCloseTo(0.1, 10);
    expect(s.usage.client).toMatchObject({ containers: 0, cpuSeconds: 0, throttledPct: null });
    expect(s.cpuBudget).toBe(1);
    expect(s.containers).toHaveLength(3);
    expect(s.notes.join()).toMatch(/restarted 1 time/);
  });

  it("is valid against its own schema after a trip through JSON", () => {
    const s = summariseCell(input());
    expect(CellSummarySchema.parse(JSON.parse(JSON.stringify(s)))).toEqual(s);
  });

  it("uses each container's own sampled seconds for its cores, not the sampler's window", () => {
    const m = (name: string, cpuSeconds: number, sampledSeconds?: number): ContainerStats => ({
      name,
      role: "model",
      cpuSeconds,
      ...(sampledSeconds !== undefined ? { sampledSeconds } : {}),
      throttledPeriods: 0,
      totalPeriods: 100,
      throttledSeconds: 0,
      memoryPeakBytes: 1,
      restarts: 0,
    });
    // the sampler's window (20.6 s) is longer than what the engine sampled (20 s): 3% understated with it
    const s = summariseCell(input({ containers: [m("m1", 10, 20), m("m2", 10, 20)], containersWindowMs: 20_600 }));
    expect(s.usage.model.cores).toBeCloseTo(1, 10);
    const mixed = summariseCell(input({ containers: [m("m1", 10, 20), m("m2", 10.3)], containersWindowMs: 20_600 }));
    expect(mixed.usage.model.cores).toBeCloseTo(0.5 + 0.5, 10);
  });

  describe("client-bound guard", () => {
    const client = (
      group: string,
      clientIndex: number,
      cores: number,
      throttled: number,
      over: Partial<ContainerStats> = {},
    ): ContainerStats => ({
      name: `c-${group}-${clientIndex}`,
      role: "client",
      group,
      clientIndex,
      cpuLimit: 0.5,
      sampledSeconds: 20,
      cpuSeconds: cores * 20,
      throttledPeriods: throttled,
      totalPeriods: 200,
      throttledSeconds: throttled * 0.01,
      memoryPeakBytes: 1e6,
      restarts: 0,
      ...over,
    });

    it("records each client's cores, limit, share of it and throttled share, per group", () => {
      const containers = [client("main", 1, 0.2, 4), client("main", 0, 0.3, 0), client("probe", 0, 0.1, 0)];
      const s = summariseCell(input({ containers, containersWindowMs: 25_000 }));
      const main = s.groups[0]!;
      expect(main.clients.usage.map((u) => u.clientIndex)).toEqual([0, 1]);
      expect(main.clients.usage[1]).toMatchObject({
        cores: 0.2,
        cpuLimit: 0.5,
        throttledShare: 0.02,
        throttledPeriods: 4,
        totalPeriods: 200,
      });
      expect(main.clients.usage[1]!.cpuShare).toBeCloseTo(0.4, 10);
      expect(main.clientBound).toBe(false);
      expect(main.clientBoundReason).toBeNull();
      expect(s.groups[1]!.clients.usage).toHaveLength(1);
    });

    it(`marks a group whose client used over ${CLIENT_CPU_SHARE * 100}% of its CPU`, () => {
      const at = (cores: number) =>
        summariseCell(input({ containers: [client("main", 0, cores, 0), client("main", 1, 0.1, 0)] })).groups[0]!;
      expect(at(0.425).clientBound).toBe(false); // exactly 85%
      const bound = at(0.48);
      expect(bound.clientBound).toBe(true);
      expect(bound.clientBoundReason).toBe("client 0 used 96% of its 0.5 cpu");
      expect(bound.notes.join()).not.toMatch(/client-bound/); // the row says it once, with the repeats
    });

    it(`marks a group whose client was throttled in over ${CLIENT_THROTTLED_SHARE * 100}% of periods`, () => {
      const at = (throttled: number) =>
        summariseCell(input({ containers: [client("main", 0, 0.1, 0), client("main", 1, 0.1, throttled)] })).groups[0]!;
      expect(at(10).clientBound).toBe(false); // exactly 5%
      expect(at(11).clientBound).toBe(true);
      expect(at(11).clientBoundReason).toBe("client 1 throttled in 6% of CFS periods");
    });

    it("takes the scenario's limit when the sampler has none, and has no share for an unlimited client", () => {
      const noLimit = client("main", 0, 0.45, 0);
      delete noLimit.cpuLimit;
      const g = summariseCell(input({ containers: [noLimit, client("main", 1, 3, 0, { cpuLimit: null })] })).groups[0]!;
      expect(g.clients.usage[0]).toMatchObject({ cpuLimit: 0.5 });
      expect(g.clients.usage[0]!.cpuShare).toBeCloseTo(0.9, 10);
      expect(g.clients.usage[1]).toMatchObject({ cpuLimit: null, cpuShare: null });
      expect(g.clientBoundReason).toBe("client 0 used 90% of its 0.5 cpu");
    });

    it("without client stats, no usage and no verdict", () => {
      const g = summariseCell(input()).groups[0]!;
      expect(g.clients.usage).toEqual([]);
      expect(g.clientBound).toBe(false);
    });
  });

  it(`flags a cell whose window saw more than ${MACHINE_BUSY_CORES} of a core used elsewhere`, () => {
    expect(summariseCell(input()).host).toBeNull();
    expect(summariseCell(input()).machineBusy).toBe(false);
    expect(summariseCell(input({ host: hostOf(MACHINE_BUSY_CORES) })).machineBusy).toBe(false);
    const busy = summariseCell(input({ host: hostOf(0.6) }));
    expect(busy.machineBusy).toBe(true);
    expect(busy.host!.elsewhereCores).toBe(0.6);
  });

  it("merges the clients' send lag like latency, never averaging it", () => {
    const fast = Array.from({ length: 990 }, () => 50);
    const results = [
      clientResult({ group: "main", clientIndex: 0, tool: "tcp", sendLag: histogramOf(fast) }),
      clientResult({ group: "main", clientIndex: 1, tool: "tcp", sendLag: histogramOf(Array.from({ length: 10 }, () => 30_000)) }),
    ];
    const g = summariseCell(input({ results })).groups[0]!;
    expect(g.sendLag!.count).toBe(1000);
    expect(g.sendLag!.p50).toBeCloseTo(0.05, 3);
    expect(g.sendLag!.p99).toBeCloseTo(0.05, 3); // 99% of sends were 50 µs late; the mean of the two p99s would be 15 ms
    expect(g.sendLag!.max).toBeCloseTo(30, 1);
    expect(summarise(decode(g.sendLagHistogram!))!.count).toBe(1000);
    expect(summariseCell(input()).groups[0]!.sendLag).toBeNull();
  });

  it("with everything measured, is valid against its own schema after a trip through JSON", () => {
    const containers: ContainerStats[] = [
      {
        name: "c0",
        role: "client",
        group: "main",
        clientIndex: 0,
        cpuLimit: 0.5,
        sampledSeconds: 20,
        cpuSeconds: 9.8,
        throttledPeriods: 40,
        totalPeriods: 200,
        throttledSeconds: 0.4,
        memoryPeakBytes: 1,
        restarts: 0,
      },
    ];
    const results = [clientResult({ group: "main", sendLag: histogramOf([10, 20, 30]) })];
    const s = summariseCell(input({ containers, results, host: hostOf(0.5) }));
    expect(s.groups[0]!.clientBound).toBe(true);
    expect(CellSummarySchema.parse(JSON.parse(JSON.stringify(s)))).toEqual(s);
  });
});

describe("summariseCell: time series and events", () => {
  /** 20 one-second intervals of `perSecond` 2 ms replies, starting at `from`; seconds 10-11 of client 0 fail. */
  function withIntervals(clientIndex: number, perSecond: number) {
    const intervals = Array.from({ length: 20 }, (_, i) => {
      const failing = clientIndex === 0 && (i === 10 || i === 11);
      const ok = failing ? 0 : perSecond;
      const errors: Record<string, number> = failing ? { reset: perSecond } : {};
      return { t: T0 + i * 1000, ok, errors, histogram: histogramOf(Array(ok).fill(2000)) };
    });
    const ok = intervals.reduce((a, iv) => a + iv.ok, 0);
    return clientResult({
      group: "main",
      clientIndex,
      startedAt: T0,
      endedAt: T0 + 20_000,
      requests: { sent: 20 * perSecond, completed: ok, ok },
      errors: clientIndex === 0 ? { reset: 2 * perSecond } : {},
      latenciesUs: Array(ok).fill(2000),
      intervals,
    });
  }
  const results = [withIntervals(0, 30), withIntervals(1, 20)];
  const kill = {
    index: 0,
    action: "kill-container" as const,
    plannedAt: T0 + 10_000,
    startedAt: T0 + 10_050,
    endedAt: T0 + 10_100,
    detail: "docker kill",
  };

  it("archives per-second series whose ok counts add up to the group's", () => {
    const s = summariseCell(input({ results }));
    const g = s.timeseries!.groups.find((x) => x.group === "main")!;
    expect(s.timeseries!.seconds).toBe(20);
    expect(g.ok.reduce((a, b) => a + b, 0)).toBe(s.groups[0]!.requests.ok);
    expect(g.ok[10]).toBe(20);
    expect(g.errorsByKind.reset![10]).toBe(30);
    expect(s.timeseries!.notes).toEqual([]);
    // the probe group's client gave no intervals: its seconds are said to be incomplete
    expect(s.timeseries!.groups.find((x) => x.group === "probe")!.clientsWithIntervals).toBe(0);
  });

  it("reports what each event did", () => {
    const s = summariseCell(input({ results, events: [kill] }));
    expect(s.events).toEqual([kill]);
    const o = s.eventOutcomes[0]!.groups.find((x) => x.group === "main")!;
    expect(o.verdict).toBe("recovered");
    expect(o.recoveredAtSecond).toBe(12);
    expect(o.noReply).toEqual({ reset: 60 });
    expect(CellSummarySchema.parse(JSON.parse(JSON.stringify(s)))).toEqual(s);
  });

  it("without per-second figures there is no series, and events say why they cannot be told", () => {
    const s = summariseCell(input({ events: [kill] }));
    expect(s.timeseries).toBeNull();
    expect(s.eventOutcomes).toEqual([]);
    expect(s.notes.join()).toMatch(/no client gave per-second figures/);
  });
});
