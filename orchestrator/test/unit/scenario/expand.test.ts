import { describe, expect, it } from "vitest";
import { planClients } from "../../../src/fleet/plan.js";
import { mulberry32 } from "../../../../loadtests/contract/random.js";
import { expandScenario, shuffle } from "../../../src/scenario/expand.js";
import { validScenario } from "../fixtures.js";
import { absoluteLoad } from "../../../src/measure/limits.js";
import type { Group } from "../../../src/scenario/schema.js";

const fleetGroup = (g: Group) => ({ ...g, load: absoluteLoad(g.load) });

describe("expandScenario", () => {
  const s = validScenario(); // 2 models x 2 topologies x 1 workload x 3 repeats

  it("makes model x topology x workload x repeat cells with stable, unique ids", () => {
    const { cells } = expandScenario(s);
    expect(cells).toHaveLength(2 * 2 * 1 * 3);
    expect(new Set(cells.map((c) => c.id)).size).toBe(cells.length);
    expect(cells.map((c) => c.id)).toContain("py-threads.1x1cpu-w2.fib30.r1");
    expect(cells.map((c) => c.id)).toContain("gunicorn-sync.2x0p5cpu.fib30.r3");
    for (const c of cells) expect(c.id).toBe(`${c.key}.r${c.repeat}`);
    expect(new Set(cells.map((c) => c.key)).size).toBe(4);
    expect(cells.map((c) => c.order)).toEqual(cells.map((_, i) => i));
  });

  it("uses the scenario's seed, and the same seed gives the same order", () => {
    const a = expandScenario(s);
    const b = expandScenario(validScenario());
    expect(a.seed).toBe(42);
    expect(b.cells.map((c) => c.id)).toEqual(a.cells.map((c) => c.id));
  });

  it("a different seed gives a different order of the same cells", () => {
    const a = expandScenario(s, { seed: 1 });
    const b = expandScenario(s, { seed: 2 });
    expect(b.cells.map((c) => c.id)).not.toEqual(a.cells.map((c) => c.id));
    expect([...b.cells.map((c) => c.id)].sort()).toEqual([...a.cells.map((c) => c.id)].sort());
  });

  it("records a fresh seed when none is given, which then reproduces the order", () => {
    const noSeed = validScenario((r) => delete r.seed);
    const first = expandScenario(noSeed);
    expect(Number.isInteger(first.seed)).toBe(true);
    expect(expandScenario(noSeed, { seed: first.seed }).cells.map((c) => c.id)).toEqual(first.cells.map((c) => c.id));
  });

  it("actually randomises (not the nested-loop order) for most seeds", () => {
    const nested = expandScenario(s, { seed: 0 })
      .cells.map((c) => c.id)
      .sort();
    let differs = 0;
    for (let seed = 0; seed < 20; seed++)
      if (
        expandScenario(s, { seed })
          .cells.map((c) => c.id)
          .join() !== nested.join()
      )
        differs++;
    expect(differs).toBeGreaterThan(15);
  });
});

describe("shuffle", () => {
  it("is a permutation and is uniform enough over many draws", () => {
    const rng = mulberry32(7);
    const firstCounts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) {
      const out = shuffle([0, 1, 2, 3], rng);
      expect([...out].sort()).toEqual([0, 1, 2, 3]);
      firstCounts[out[0]!]!++;
    }
    for (const c of firstCounts) expect(c).toBeGreaterThan(850);
  });
});

describe("planClients", () => {
  it("splits an open rate evenly", () => {
    const g = validScenario().workloads[0]!.groups[0]!; // open 50 req/s, 2 clients
    expect(planClients(fleetGroup(g)).map((p) => p.load)).toEqual([
      { model: "open", rate: 25 },
      { model: "open", rate: 25 },
    ]);
  });

  it("splits connections as whole numbers and a rate cap in proportion", () => {
    const g = validScenario((r) => {
      r.workloads[0].groups[1].load = { model: "closed", connections: 5, rate: 100 };
      r.workloads[0].groups[1].clients = { count: 2 };
    }).workloads[0]!.groups[1]!;
    const plans = planClients(fleetGroup(g));
    expect(plans.map((p) => p.clientIndex)).toEqual([0, 1]);
    expect(plans.map((p) => p.load)).toEqual([
      { model: "closed", connections: 3, pipelining: 1, rate: 60 },
      { model: "closed", connections: 2, pipelining: 1, rate: 40 },
    ]);
  });
});
