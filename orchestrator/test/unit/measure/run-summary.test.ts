import { describe, expect, it } from "vitest";
import { merge, summarise } from "../../../src/measure/histogram.js";
import { RunSummarySchema, runProblems, summariseRun } from "../../../src/measure/run-summary.js";
import type { EventRecord } from "../../../src/events/record.js";
import { cellsOf, differingRepeats, killedAt8s, memoryOf, runOf, twoRepeats, validScenario } from "../fixtures.js";

describe("summariseRun", () => {
  const scenario = validScenario(); // 2 models x 2 topologies x 1 workload (2 groups) x 3 repeats

  it("has one row per model x topology x workload x group, in scenario order", () => {
    const run = runOf(scenario);
    expect(run.rows.map((r) => r.key)).toEqual([
      "py-threads.1x1cpu-w2.fib30.main",
      "py-threads.2x0p5cpu.fib30.main",
      "gunicorn-sync.1x1cpu-w2.fib30.main",
      "gunicorn-sync.2x0p5cpu.fib30.main",
      "py-threads.1x1cpu-w2.fib30.probe",
      "py-threads.2x0p5cpu.fib30.probe",
      "gunicorn-sync.1x1cpu-w2.fib30.probe",
      "gunicorn-sync.2x0p5cpu.fib30.probe",
    ]);
    expect(run.cells).toHaveLength(12);
    expect(run.cells.map((c) => c.order)).toEqual([...Array(12).keys()]);
  });

  it("describes throughput and each percentile across repeats", () => {
    // repeat r: each of the 2 main clients gets 1000 + 100 r ok replies in 20 s
    const run = runOf(scenario, {
      okPerClient: (id) => 1000 + 100 * Number(id.slice(-1)),
      latencyUs: (id) => 1000 * Number(id.slice(-1)),
    });
    const row = run.rows[0]!;
    expect(row.repeats).toBe(3);
    expect(row.loadModel).toBe("open");
    // 2 x (1100, 1200, 1300) / 20 s = 110, 120, 130 req/s
    expect(row.throughput.mean).toBeCloseTo(120, 10);
    expect(row.throughput.stdev).toBeCloseTo(10, 10);
    expect(row.throughput.cv).toBeCloseTo(10 / 120, 10);
    expect(row.throughput.ci95!.halfWidth).toBeCloseTo((4.303 * 10) / Math.sqrt(3), 8);
    // the merged p50: 2 x (1100 at ~1 ms, 1200 at ~2 ms, 1300 at ~3 ms) -> the 1800th of 3600 is ~2 ms
    expect(row.latency!.p50).toBeCloseTo(2.005, 2);
    expect(row.latencySpread.p50.min).toBeCloseTo(1.005, 2);
    expect(row.latencySpread.p50.max).toBeCloseTo(3.005, 2);
    expect(row.latencySpread.p50).not.toHaveProperty("mean");
    expect(row.latency!.count).toBe(2 * (1100 + 1200 + 1300));
    expect(row.modelCores.mean).toBeCloseTo(0.8, 10);
    expect(row.modelThrottledPct.mean).toBeCloseTo(5, 10);
    expect(row.evenness.byProcessCv.mean).toBe(0);
  });

  it("flags a row noisy when its throughput CV across repeats is above 5%, and only then", () => {
    // 110, 120, 130 req/s: CV 8.3%
    const noisy = runOf(scenario, { okPerClient: (id) => 1000 + 100 * Number(id.slice(-1)) }).rows[0]!;
    expect(noisy.throughput.cv).toBeCloseTo(10 / 120, 10);
    expect(noisy.noisy).toBe(true);
    expect(noisy.notes.join()).toMatch(/noisy: throughput varied by 8\.3% \(CV\) across 3 repeats, above 5%/);
    // 120.5, 121, 121.5 req/s: CV 0.4%
    const steady = runOf(scenario, { okPerClient: (id) => 1200 + 5 * Number(id.slice(-1)) }).rows[0]!;
    expect(steady.throughput.cv).toBeLessThan(0.05);
    expect(steady.noisy).toBe(false);
    expect(steady.notes.join()).not.toMatch(/noisy/);
  });

  it("leaves failed repeats out of the statistics and says so", () => {
    const run = runOf(scenario, { failed: (id) => id === "py-threads.1x1cpu-w2.fib30.r2" });
    const row = run.rows[0]!;
    expect(row.repeats).toBe(2);
    expect(row.failedRepeats).toBe(1);
    expect(row.throughput.n).toBe(2);
    expect(row.notes.join()).toMatch(/1 repeat\(s\) failed: model did not verify/);
    expect(run.cells.find((c) => c.id === "py-threads.1x1cpu-w2.fib30.r2")!.status).toBe("failed");
  });

  it("counts repeats whose open load was not delivered", () => {
    const run = runOf(scenario, { dropped: (id, g) => (g === "main" && id.endsWith("r3") ? 5 : 0) });
    expect(run.rows[0]!.loadNotDeliveredRepeats).toBe(1);
    expect(run.rows[0]!.dropped).toBe(10); // 2 clients x 5
    expect(run.rows[4]!.loadNotDeliveredRepeats).toBe(0); // closed model
  });

  it("is valid against its own schema after a trip through JSON", () => {
    const run = runOf(scenario);
    expect(RunSummarySchema.parse(JSON.parse(JSON.stringify(run)))).toEqual(run);
  });

  describe("across repeats: percentiles of the merged histogram, never a mean of percentiles", () => {
    const cells = cellsOf(twoRepeats, { latenciesUs: (id) => differingRepeats(id) });
    const run = summariseRun({
      runId: "two",
      scenario: twoRepeats,
      seed: 1,
      startedAt: "a",
      finishedAt: "b",
      environment: {},
      cells,
    });
    const row = run.rows[0]!;
    const mine = cells.filter((c) => c.key === row.cellKey).map((c) => c.groups.find((g) => g.group === row.group)!);
    const perRepeatP99 = mine.map((g) => g.latency!.p99);

    it("the repeats really differ", () => {
      expect(mine).toHaveLength(2);
      expect(Math.min(...perRepeatP99)).toBeLessThan(3);
      expect(Math.max(...perRepeatP99)).toBeGreaterThan(99);
    });

    it("the row's p99 is the p99 of all repeats' histograms merged", () => {
      const merged = summarise(merge(mine.map((g) => g.histogram)))!;
      expect(row.latency).toEqual(merged);
      expect(row.latency!.count).toBe(4000);
      // 40 of 4000 replies were slow (1%): the 3960th is still fast
      expect(row.latency!.p99).toBeLessThan(3);
    });

    it("and not the mean of the repeats' p99s", () => {
      const meanOfP99 = (perRepeatP99[0]! + perRepeatP99[1]!) / 2;
      expect(meanOfP99).toBeGreaterThan(50);
      expect(Math.abs(row.latency!.p99 - meanOfP99)).toBeGreaterThan(40);
    });

    it("keeps the per-repeat values only as a spread, with no mean in it", () => {
      expect(row.latencySpread.p99.min).toBe(Math.min(...perRepeatP99));
      expect(row.latencySpread.p99.max).toBe(Math.max(...perRepeatP99));
      expect(row.latencySpread.p99.ci95).not.toBeNull();
      for (const s of Object.values(row.latencySpread)) {
        expect(s).not.toHaveProperty("mean");
        expect(s).not.toHaveProperty("stdev");
      }
    });

    it("throughput stays a mean over repeats", () => {
      expect(row.throughput.mean).toBeCloseTo(100, 10); // 2 x 1000 in 20 s both times
    });
  });

  it("counts client-bound repeats, says so once in the notes and gives the client figures", () => {
    const run = runOf(scenario, {
      clientCores: (id, g) => (g === "main" && id.endsWith("r2") ? 0.49 : 0.2),
      clientThrottled: (id, g) => (g === "probe" && id.startsWith("gunicorn-sync") && id.endsWith("r1") ? 0.2 : 0.01),
    });
    const row = run.rows[0]!;
    expect(row.clientBoundRepeats).toBe(1);
    expect(row.clients.maxCpuShare.max).toBeCloseTo(0.98, 10);
    expect(row.clients.maxCpuShare.min).toBeCloseTo(0.4, 10);
    expect(row.clients.cores.max).toBeCloseTo(0.98, 10); // 2 clients x 0.49
    expect(row.clients.maxThrottledShare.mean).toBeCloseTo(0.01, 10);
    const bound = row.notes.filter((n) => n.includes("client-bound"));
    expect(bound).toEqual([
      "client-bound in 1 of 3 repeats: these figures measure the client, not the server (r2: client 0 used 98% of its 0.5 cpu; client 1 used 98% of its 0.5 cpu)",
    ]);
    const probe = run.rows.find((r) => r.key === "gunicorn-sync.1x1cpu-w2.fib30.probe")!;
    expect(probe.clientBoundRepeats).toBe(1);
    expect(probe.notes.join()).toMatch(/r1: client 0 throttled in 20% of CFS periods/);
    expect(run.rows.find((r) => r.key === "py-threads.1x1cpu-w2.fib30.probe")!.clientBoundRepeats).toBe(0);
    const problems = runProblems(run);
    expect(problems.clientBound.filter((p) => p.includes(".main:"))).toHaveLength(4);
    expect(problems.clientBound).toContain(
      "gunicorn-sync.1x1cpu-w2.fib30.probe: client-bound in 1 of 3 repeats (these figures measure the client)",
    );
    expect(problems.machineBusy).toEqual([]);
    expect(run.problems).toEqual(problems); // in summary.json too
  });

  it("counts repeats on a busy machine, per row and per cell", () => {
    const run = runOf(scenario, {
      elsewhereCores: (id) => (id === "py-sync.1x1cpu-w2.fib30.r1" || id === "py-threads.2x0p5cpu.fib30.r3" ? 0.45 : 0.03),
    });
    const row = run.rows.find((r) => r.key === "py-threads.2x0p5cpu.fib30.main")!;
    expect(row.machineBusyRepeats).toBe(1);
    expect(row.hostElsewhereCores.max).toBeCloseTo(0.45, 10);
    expect(row.notes.join()).toMatch(
      /machine busy in 1 of 3 repeats: more than 0.1 of a core was used outside this run during the window \(r3: 0.45 cores\)/,
    );
    expect(run.rows[0]!.machineBusyRepeats).toBe(0);
    expect(run.cells.find((c) => c.id === "py-threads.2x0p5cpu.fib30.r3")).toMatchObject({ machineBusy: true, elsewhereCores: 0.45 });
    expect(runProblems(run).machineBusy).toEqual([
      "py-threads.2x0p5cpu.fib30.r3: machine busy, 0.45 cores used outside the run (over 0.1)",
    ]);
    expect(runProblems(run).clientBound).toEqual([]);
    expect(run.problems.machineBusy).toHaveLength(1);
  });

  it("a clean run has no problems", () => {
    expect(runOf(scenario).problems).toEqual({ clientBound: [], machineBusy: [] });
  });

  it("merges the send lag over clients and repeats", () => {
    const run = runOf(scenario, {
      sendLagUs: (id, g) =>
        g === "main" ? Array.from({ length: 100 }, (_, i) => (id.endsWith("r3") && i === 0 ? 40_000 : 100)) : undefined,
    });
    const row = run.rows[0]!;
    expect(row.sendLag).toMatchObject({ count: 600 });
    expect(row.sendLag!.p99).toBeCloseTo(0.1, 3);
    expect(row.sendLag!.max).toBeCloseTo(40, 1);
    expect(run.rows[4]!.sendLag).toBeNull();
  });

  it("names the cgroup version and storage driver of the environment", () => {
    const run = runOf(scenario);
    expect(RunSummarySchema.parse(JSON.parse(JSON.stringify(run))).environment).toMatchObject({
      cgroupVersion: "2",
      storageDriver: "overlay2",
    });
  });
});

describe("summariseRun: memory and work spread", () => {
  // Per repeat r: a master of 20 MiB PSS and two workers of 10 MiB + r MiB, each mapping 30 MiB.
  const MiB = 1024; // kB
  const run = runOf(validScenario(), {
    memory: (id) => {
      const r = Number(id.slice(-1));
      return memoryOf([[{ pss: 20 * MiB, rss: 30 * MiB }, ...[1, 2].map(() => ({ pss: (10 + r) * MiB, rss: 30 * MiB }))]]);
    },
  });
  const row = run.rows.find((r) => r.key === "py-threads.1x1cpu-w2.fib30.main")!;

  it("gives the PSS sum as mean and min–max over repeats, with RSS, cgroup and processes", () => {
    const m = row.memory!;
    const sums = [1, 2, 3].map((r) => (20 + 2 * (10 + r)) * 2 ** 20);
    expect(m.pssBytes.n).toBe(3);
    expect(m.pssBytes.mean).toBeCloseTo(sums[1]!, 6);
    expect([m.pssBytes.min, m.pssBytes.max]).toEqual([sums[0], sums[2]]);
    expect(m.rssBytes.mean).toBe(90 * 2 ** 20);
    expect(m.pssBytes.max!).toBeLessThan(m.rssBytes.min!);
    expect(m.cgroupBytes.mean).toBe(64 * 2 ** 20);
    expect(m.processes.mean).toBe(3);
    expect(m.unreadable).toBe(0);
  });

  it("keeps each ok repeat's replies per process, and max/mean across repeats", () => {
    expect(row.spread.map((s) => s.repeat)).toEqual([1, 2, 3]);
    expect(row.spread[0]!.byProcess).toEqual({ "py-threads-1/1": 1000, "py-threads-1/2": 1000 });
    expect(row.evenness.byProcessMaxMean!.mean).toBe(1);
  });

  it("without readings, no memory; an older summary without the new fields still loads", () => {
    const plain = runOf(validScenario());
    expect(plain.rows[0]!.memory).toBeNull();
    const old = JSON.parse(JSON.stringify(run));
    for (const r of old.rows) {
      delete r.memory;
      delete r.spread;
      delete r.evenness.byProcessMaxMean;
      delete r.evenness.byReplicaMaxMean;
    }
    const back = RunSummarySchema.parse(old);
    expect(back.rows[0]!.memory).toBeNull();
    expect(back.rows[0]!.spread).toEqual([]);
  });
});

describe("summariseRun: events and timelines", () => {
  const scenario = validScenario();
  // main: 2 clients x 10 req/s for 20 s; a container kill at 8 s empties seconds 8-9 of client 0 in
  // every repeat; in r3 it never comes back. The probe group gives no per-second figures.
  const events = (_id: string, t0: number): EventRecord[] => [
    { index: 0, action: "kill-container", plannedAt: t0 + 8000, startedAt: t0 + 8000, endedAt: t0 + 8100, detail: "docker kill m-1" },
  ];
  const run = runOf(scenario, { intervals: killedAt8s, events });
  const row = run.rows.find((r) => r.key === "py-threads.1x1cpu-w2.fib30.main")!;

  it("aggregates each event over the repeats: recovery time of those that recovered, the others counted", () => {
    expect(row.events).toHaveLength(1);
    const e = row.events[0]!;
    expect(e).toMatchObject({ index: 0, action: "kill-container", repeats: 3, recovered: 2, didNotRecover: 1, notJudged: 0 });
    // r1, r2: seconds 8-9 down, healthy from 10: 2000 ms after the event
    expect(e.recoveryMs).toMatchObject({ n: 2, mean: 2000, min: 2000, max: 2000 });
    expect(e.errorsTotal).toBe(2 * 2 * 10 + 12 * 10);
    expect(e.noReply).toEqual({ reset: 2 * 2 * 4 + 12 * 4 });
    expect(e.worstSecond).toMatchObject({ errors: 10, ok: 10 });
  });

  it("keeps one timeline per cell key, in row order, from the first ok repeat", () => {
    expect(run.timelines.map((t) => `${t.cellKey} r${t.repeat}`)).toEqual([
      "py-threads.1x1cpu-w2.fib30 r1",
      "py-threads.2x0p5cpu.fib30 r1",
      "gunicorn-sync.1x1cpu-w2.fib30 r1",
      "gunicorn-sync.2x0p5cpu.fib30 r1",
    ]);
    const t = run.timelines[0]!;
    expect(t.timeseries.groups.find((g) => g.group === "main")!.ok.slice(7, 11)).toEqual([20, 10, 10, 20]);
    expect(t.events[0]!.atSecond).toBe(8);
    expect(RunSummarySchema.parse(JSON.parse(JSON.stringify(run)))).toEqual(run);
  });

  it("a run without per-second figures has no timelines and no row events", () => {
    const plain = runOf(scenario);
    expect(plain.timelines).toEqual([]);
    expect(plain.rows.every((r) => r.events.length === 0)).toBe(true);
  });
});
