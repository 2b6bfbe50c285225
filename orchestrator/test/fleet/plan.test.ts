import { describe, expect, it } from "vitest";
import { executionSegment, k6VuPool } from "../../src/fleet/drivers/k6.js";
import { hardTimeoutMs, mixEnv, planFleet, type FleetGroup, type FleetSpec } from "../../src/fleet/plan.js";

const fib = (arg: number, weight = 1) => ({ text: `fib ${arg}`, kind: "fib" as const, arg, weight });
const sleepReq = (arg: number, weight = 1) => ({ text: `sleep ${arg}`, kind: "sleep" as const, arg, weight });

function spec(groups: FleetGroup[], more: Partial<FleetSpec> = {}): FleetSpec {
  return { runId: "r1", cellId: "c.1", network: "fl_lab", outDir: "/tmp/cell", groups, durationMs: 5000, warmupMs: 1000, ...more };
}

describe("k6 execution segments", () => {
  it("stripes n instances over [0, 1]", () => {
    expect(executionSegment(0, 1)).toEqual({ segment: "0:1", sequence: "0,1" });
    expect(executionSegment(0, 3)).toEqual({ segment: "0:1/3", sequence: "0,1/3,2/3,1" });
    expect(executionSegment(2, 3)).toEqual({ segment: "2/3:1", sequence: "0,1/3,2/3,1" });
    expect(() => executionSegment(3, 3)).toThrow();
  });
});

describe("mix for each tool", () => {
  it("gives the TCP client n and the HTTP clients paths", () => {
    expect(JSON.parse(mixEnv([fib(30, 1), fib(1, 9)], "tcp"))).toEqual([
      { n: 30, weight: 1 },
      { n: 1, weight: 9 },
    ]);
    expect(JSON.parse(mixEnv([fib(25), sleepReq(50, 2)], "k6"))).toEqual([
      { path: "/fib/25", weight: 1 },
      { path: "/sleep/50", weight: 2 },
    ]);
    expect(() => mixEnv([sleepReq(5)], "tcp")).toThrow(/cannot send/);
  });
});

describe("fleet plan", () => {
  it("splits an open TCP rate over the clients and passes the common start", () => {
    const plan = planFleet(
      spec([{ name: "probe", tool: "tcp", load: { model: "open", rate: 300 }, request: [fib(1)], clients: { count: 3, cpus: 0.5 } }]),
      1_700_000_000_000,
    );
    expect(plan).toHaveLength(3);
    expect(plan.map((c) => c.env.RATE)).toEqual(["100", "100", "100"]);
    expect(plan.map((c) => c.env.CLIENT_INDEX)).toEqual(["0", "1", "2"]);
    const c = plan[1]!;
    expect(c).toMatchObject({
      tool: "tcp",
      image: "fiblab/loadclient:latest",
      cmd: undefined,
      nanoCpus: 500_000_000,
      memoryBytes: 512 * 1024 * 1024,
      outDir: "/tmp/cell/probe-1",
    });
    expect(c.env).toMatchObject({
      TOOL: "tcp",
      TARGET_HOST: "front",
      TARGET_PORT: "25000",
      MODEL: "open",
      CONNECTIONS: "8",
      START_AT: "1700000000000",
      DURATION_MS: "5000",
      WARMUP_MS: "1000",
      CLIENT_COUNT: "3",
      GROUP: "probe",
      OUT: "/out/result.json",
    });
    expect(c.labels).toMatchObject({ "fiblab.run": "r1", "fiblab.role": "client", "fiblab.cell": "c.1", "fiblab.group": "probe" });
    expect(c.name).toBe("fiblab-r1-probe-1");
  });

  it("passes Poisson arrivals and gives every client a seed of its own, the same for the same run seed", () => {
    const groups: FleetGroup[] = [
      {
        name: "p",
        tool: "tcp",
        load: { model: "open", rate: 100, arrivals: "poisson" },
        request: [fib(1)],
        clients: { count: 2, cpus: 0.5 },
      },
      { name: "q", tool: "tcp", load: { model: "open", rate: 100 }, request: [fib(1)], clients: { count: 1, cpus: 0.5 } },
    ];
    const plan = planFleet(spec(groups, { seed: 7 }), 0);
    expect(plan.map((c) => c.env.ARRIVALS)).toEqual(["poisson", "poisson", undefined]);
    const seeds = plan.map((c) => c.env.SEED);
    expect(new Set(seeds).size).toBe(3);
    expect(planFleet(spec(groups, { seed: 7 }), 0).map((c) => c.env.SEED)).toEqual(seeds);
    expect(planFleet(spec(groups, { seed: 8 }), 0).map((c) => c.env.SEED)).not.toEqual(seeds);
  });

  it("splits closed connections as whole numbers and an autocannon rate in proportion", () => {
    const plan = planFleet(
      spec([
        {
          name: "ac",
          tool: "autocannon",
          load: { model: "closed", connections: 5, pipelining: 2, rate: 100 },
          request: [fib(20)],
          clients: { count: 2, cpus: 1 },
        },
      ]),
      0,
    );
    expect(plan.map((c) => c.env.CONNECTIONS)).toEqual(["3", "2"]);
    expect(plan.map((c) => c.env.RATE)).toEqual(["60", "40"]);
    expect(plan[0]!.env).toMatchObject({
      TOOL: "autocannon",
      TARGET_PORT: "8080",
      PIPELINING: "2",
      MIX: '[{"path":"/fib/20","weight":1}]',
    });
  });

  it("gives every k6 instance the group totals and its own segment", () => {
    const plan = planFleet(
      spec(
        [
          { name: "http", tool: "k6", load: { model: "open", rate: 120 }, request: [fib(25)], clients: { count: 2, cpus: 1 } },
          {
            name: "vu",
            tool: "k6",
            load: { model: "closed", connections: 10, pipelining: 1 },
            request: [fib(25)],
            clients: { count: 1, cpus: 1 },
          },
        ],
        { target: { host: "fl-front", httpPort: 8081, tcpPort: 25001 }, requestTimeoutMs: 3000 },
      ),
      0,
    );
    expect(plan).toHaveLength(3);
    const [a, b, v] = plan as [(typeof plan)[0], (typeof plan)[0], (typeof plan)[0]];
    expect(a.env).toMatchObject({
      TARGET: "http://fl-front:8081",
      RATE: "120",
      MODEL: "open",
      DURATION: "5000ms",
      WARMUP: "1000ms",
      TIMEOUT: "3000ms",
    });
    expect(b.env.RATE).toBe("120");
    expect(a.cmd).toContain("--paused");
    expect(a.cmd?.slice(a.cmd.indexOf("--execution-segment"), a.cmd.indexOf("--execution-segment") + 4)).toEqual([
      "--execution-segment",
      "0:1/2",
      "--execution-segment-sequence",
      "0,1/2,1",
    ]);
    expect(b.cmd).toContain("1/2:1");
    expect(a.apiPort).toBe(6565);
    expect(v.env).toMatchObject({ MODEL: "closed", VUS: "10" });
    expect(v.env.RATE).toBeUndefined();
  });

  it("sizes the k6 VU pool and the hard timeout", () => {
    expect(k6VuPool(100, 1)).toEqual({ preAllocated: 50, max: 200 });
    expect(k6VuPool(5, 2)).toEqual({ preAllocated: 4, max: 100 });
    expect(k6VuPool(5, 1, { preAllocated: 7, max: 3 })).toEqual({ preAllocated: 7, max: 7 });
    expect(hardTimeoutMs(spec([], { startDelayMs: 1000, requestTimeoutMs: 2000, hardTimeoutMarginMs: 500 }))).toBe(
      1000 + 1000 + 5000 + 4000 + 500,
    );
  });
});
