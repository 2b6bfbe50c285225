import { describe, expect, it } from "vitest";
import { CellSummarySchema, evenness, summariseCell, type CellInput } from "../../../src/measure/cell-summary.js";
import type { ContainerStats } from "../../../src/measure/container-stats.js";
import { expandScenario } from "../../../src/scenario/expand.js";
import { clientResult, validScenario } from "../fixtures.js";

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
      clientResult({ group: "probe", tool: "autocannon", loadModel: "closed", startedAt: T0, endedAt: T0 + 20_000, latenciesUs: Array(2000).fill(1000) }),
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
    const results = [clientResult({ group: "probe", tool: "autocannon", loadModel: "closed", requests: { sent: 3, completed: 3, ok: 3 }, dropped: 0 })];
    expect(summariseCell(input({ results })).groups[1]!.loadNotDelivered).toBe(false);
  });

  it("a missing client is noted and lowers the sends", () => {
    const s = summariseCell(input({ results: [clientResult({ group: "main", clientIndex: 0 })] }));
    expect(s.groups[0]!.clients).toEqual({ expected: 2, reported: 1, cpus: 0.5 });
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

  it("TCP (no X-Worker) has no evenness", () => {
    expect(summariseCell(input()).groups[0]!.workers).toEqual({ counts: {}, byReplica: null, byProcess: null });
    expect(evenness({})).toBeNull();
  });

  it("notes misaligned client windows", () => {
    const results = [
      clientResult({ group: "main", clientIndex: 0, startedAt: T0, endedAt: T0 + 20_000 }),
      clientResult({ group: "main", clientIndex: 1, startedAt: T0 + 2_000, endedAt: T0 + 22_000 }),
    ];
    expect(summariseCell(input({ results })).groups[0]!.notes.join()).toMatch(/misaligned: 22000 ms from first start to last end, only 18000 ms in common/);
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
    const c = (name: string, role: ContainerStats["role"], cpuSeconds: number, throttled: number, total: number, mem: number, restarts = 0): ContainerStats => ({
      name,
      role,
      cpuSeconds,
      throttledPeriods: throttled,
      totalPeriods: total,
      throttledSeconds: throttled * 0.01,
      memoryPeakBytes: mem,
      restarts,
    });
    const containers = [c("m1", "model", 9, 50, 200, 100e6), c("m2", "model", 10, 150, 200, 150e6, 1), c("front", "front", 2, 0, 200, 20e6)];
    const s = summariseCell(input({ containers, containersWindowMs: 20_000 }));
    expect(s.usage.model).toMatchObject({ containers: 2, cpuSeconds: 19, cores: 0.95, throttledPct: 50, memoryPeakBytes: 150e6, restarts: 1 });
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
});
