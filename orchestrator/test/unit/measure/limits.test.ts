import { describe, expect, it } from "vitest";
import { absoluteLoad, cpuMsPerRequest, physicalLimit, resolveLoad, type ServiceTime } from "../../../src/measure/limits.js";
import { layout, rowPrediction, serviceFor } from "../../../src/measure/prediction.js";
import { RateSchema, type RequestMix } from "../../../src/scenario/schema.js";
import { md1MeanWait } from "../../../src/measure/queueing.js";

const fib = (arg: number, weight = 1) => ({ text: `fib ${arg}`, kind: "fib" as const, arg, weight });
const sleep = (arg: number, weight = 1) => ({ text: `sleep ${arg}`, kind: "sleep" as const, arg, weight });
const times: ServiceTime[] = [
  { n: 1, cpuMs: 0.001, wallMs: 0.002, calls: 1000 },
  { n: 22, cpuMs: 1.5, wallMs: 3, calls: 100 },
  { n: 30, cpuMs: 70, wallMs: 140, calls: 6 },
];

describe("relative rates", () => {
  it.each([
    ["80%", { percent: 80 }],
    [" 95.5 % ", { percent: 95.5 }],
    [120, 120],
    [{ percent: 50 }, { percent: 50 }],
  ])("%j parses", (input, out) => expect(RateSchema.parse(input)).toEqual(out));

  it.each([["0%"], ["301%"], ["abc"], [0], [-5], ["80"]])("%j is rejected with the reason", (input) => {
    const r = RateSchema.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toMatch(/rate/);
  });

  it("resolves a share of the probed capacity, and keeps what it was resolved against", () => {
    const r = resolveLoad({ model: "open", rate: { percent: 80 } }, 250);
    expect(r.load).toEqual({ model: "open", rate: 200 });
    expect(r.relative).toEqual({ percent: 80, capacity: 250, rate: 200 });
    expect(resolveLoad({ model: "open", rate: 40 }, null)).toEqual({ load: { model: "open", rate: 40 }, relative: null });
  });

  it("refuses to guess a rate without a capacity, and never lets a relative rate reach a client", () => {
    expect(() => resolveLoad({ model: "open", rate: { percent: 80 } }, null)).toThrow(/probed capacity/);
    expect(() => absoluteLoad({ model: "open", rate: { percent: 80 } })).toThrow(/never resolved/);
  });
});

describe("the physical limit", () => {
  it("is the budget over the mix's CPU per request, sleep costing none", () => {
    expect(cpuMsPerRequest([fib(22)], times)).toBe(1.5);
    const mix: RequestMix = [fib(30, 1), fib(1, 9)];
    expect(cpuMsPerRequest(mix, times)).toBeCloseTo((70 + 9 * 0.001) / 10, 12);
    expect(cpuMsPerRequest([fib(22), sleep(50)], times)).toBeCloseTo(0.75, 12);
    expect(cpuMsPerRequest([sleep(50)], times)).toBeNull();
    expect(cpuMsPerRequest([fib(25)], times)).toBeNull();
  });

  it("fib(22) at 1.5 ms: one cpu serves at most 667 req/s; 342 served is 0.51 of it", () => {
    const l = physicalLimit(1, 1.5, 342);
    expect(l?.limitRps).toBeCloseTo(666.67, 1);
    expect(l?.fraction).toBeCloseTo(0.513, 3);
    expect(physicalLimit(0.5, 1.5, null)?.limitRps).toBeCloseTo(333.33, 1);
    expect(physicalLimit(1, null, 10)).toBeNull();
  });
});

describe("the queueing layout of a shape", () => {
  it("a master's workers share one queue; one-process replicas each have their own", () => {
    expect(layout({ replicas: 1, processesPerReplica: 3 }, "round_robin")).toEqual({ servers: 3, discipline: "shared" });
    expect(layout({ replicas: 2, processesPerReplica: 1 }, "round_robin")).toEqual({ servers: 2, discipline: "round-robin" });
    expect(layout({ replicas: 2, processesPerReplica: 1 }, "least_conn")).toEqual({ servers: 2, discipline: "least-conn" });
    expect(layout({ replicas: 2, processesPerReplica: 2 }, "round_robin")).toBeNull();
  });

  it("a mix keeps the proportions of its measured CPU times, scaled to the probed mean", () => {
    const s = serviceFor([fib(30, 1), fib(1, 9)], times, 10);
    if (s === null || typeof s === "number" || !("samplesMs" in s)) throw new Error("expected samples");
    const mean = s.samplesMs.reduce((a, b) => a + b, 0) / s.samplesMs.length;
    expect(mean).toBeCloseTo(10, 9);
    expect(s.samplesMs.filter((x) => x > 50).length).toBe(100);
    expect(serviceFor([sleep(50)], times, 10)).toBeNull();
    expect(serviceFor([fib(22)], times, 4)).toBe(4);
  });

  it("one replica, one process, Poisson arrivals at 80% of 100 req/s: the exact M/D/1 (mean wait 20 ms)", () => {
    const p = rowPrediction({
      load: { model: "open", rate: 80, arrivals: "poisson" },
      request: [fib(22)],
      latency: { count: 1000, min: 1, mean: 30, stdev: 5, p50: 20, p90: 50, p99: 90, p999: 120, max: 150 },
      capacity: 100,
      probe: { replicas: 1, processesPerReplica: 1, serviceTimes: times },
      balance: "round_robin",
    });
    expect(p?.model).toBe("M/D/1");
    expect(p?.method).toBe("analytic");
    expect(p?.serviceMs).toBeCloseTo(10, 12);
    expect(p?.offeredLoad).toBeCloseTo(0.8, 12);
    expect(md1MeanWait(0.08, 10)).toBeCloseTo(20, 9);
    expect(p?.p99Ratio).toBeCloseTo(90 / (p?.p99Ms ?? NaN), 9);
    expect(p?.p50Ms).toBeGreaterThan(10);
  });

  it("past capacity there is no steady state to predict", () => {
    const p = rowPrediction({
      load: { model: "open", rate: 120 },
      request: [fib(22)],
      latency: { count: 1, min: 1, mean: 1, stdev: 0, p50: 1, p90: 1, p99: 1, p999: 1, max: 1 },
      capacity: 100,
      probe: { replicas: 2, processesPerReplica: 1, serviceTimes: times },
      balance: "round_robin",
    });
    expect(p?.p99Ms).toBeNull();
    expect(p?.text).toMatch(/no steady state/);
  });
});
