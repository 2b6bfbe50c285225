import { describe, expect, it } from "vitest";
import { busyCoresBetween, ENGINE_OWN_MAX_CORES, hostUsage, parseProcStat } from "../../../src/measure/host-usage.js";

describe("host usage", () => {
  it("reads /proc/stat's aggregate line: idle and iowait are idle, the rest busy", () => {
    const t = parseProcStat("cpu  100 5 50 800 40 3 2 0 0 0\ncpu0 50 2 25 400 20 1 1 0 0 0\n");
    expect(t).toEqual({ total: 1000, idle: 840 });
    expect(busyCoresBetween({ total: 1000, idle: 840 }, { total: 1200, idle: 940 }, 2)).toBeCloseTo(1.0);
  });

  it("counts as elsewhere what neither the cell, the orchestrator nor the engine's share for the run used", () => {
    const h = hostUsage({
      windowMs: 10_000,
      cores: 2,
      busyCores: 1.5,
      cellCpuSeconds: 10,
      orchestratorCpuSeconds: 1,
      engineCpuSeconds: 0.5,
    });
    expect(h.cellCores).toBeCloseTo(1.0);
    expect(h.orchestratorCores).toBeCloseTo(0.1);
    expect(h.engineCores).toBeCloseTo(0.05);
    expect(h.elsewhereCores).toBeCloseTo(0.35);
    // An engine busier than the run can make it (a build inside dockerd) is someone else's beyond the cap.
    const busy = hostUsage({
      windowMs: 10_000,
      cores: 2,
      busyCores: 1.6,
      cellCpuSeconds: 10,
      orchestratorCpuSeconds: 0,
      engineCpuSeconds: 5,
    });
    expect(busy.engineCores).toBeCloseTo(0.5);
    expect(busy.elsewhereCores).toBeCloseTo(0.6 - ENGINE_OWN_MAX_CORES);
    // A cell that used more than the host's counters saw (sampling edges) is not negative elsewhere.
    expect(hostUsage({ windowMs: 10_000, cores: 2, busyCores: 0.5, cellCpuSeconds: 10, orchestratorCpuSeconds: 0 }).elsewhereCores).toBe(0);
  });
});
