import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { docker } from "../../orchestrator/src/docker/client.js";
import { CellSummarySchema, type CellSummary } from "../../orchestrator/src/measure/cell-summary.js";
import { RunSummarySchema, type RowSummary, type RunSummary } from "../../orchestrator/src/measure/run-summary.js";
import { repoRoot } from "../../orchestrator/src/models/catalog.js";
import { runScenario } from "../../orchestrator/src/run/runner.js";

/**
 * Calibration (issue 3, item 6): the lab measures a target whose answer is known, and must get it.
 *
 * `calibrate` answers every request SERVICE_MS after it arrived, without CPU and with unlimited
 * concurrency, and can freeze once for STALL_MS. Both scenarios run through the real runner into
 * a temporary archive; every assertion reads the archived summary.json, the file reports and
 * comparisons are made from.
 *
 * The known answer lives here, not in the scenario: if the target or the lab drifts (try
 * SERVICE_MS: 60 in calibrate.yaml) the first assertion goes red.
 */
const SERVICE_MS = 50;
const STALL_MS = 1000;

/**
 * The lab's own overhead on top of SERVICE_MS, at p50: docker's bridge twice (client → front →
 * model), nginx, asyncio's timer and the client's event loop. Measured in 5 runs on a 2-core
 * machine shared with other suites (load average up to ~3): p50 = SERVICE_MS + 1.2 .. 2.5 ms for
 * every tool and model (p99 = SERVICE_MS + 5 .. 47 ms). Allowed: up to 5 % + 1 ms (53.5 ms), 1 ms
 * of headroom over the worst p50 seen, and a 10 ms drift (SERVICE_MS 60) fails by far. Below:
 * nothing may be faster than the service time itself (HdrHistogram keeps 3 significant digits,
 * so a value is known to 0.1 %).
 */
const P50_MAX = SERVICE_MS * 1.05 + 1;
const FLOOR = SERVICE_MS * 0.999;
/** Throughput of an open model that delivered its load: the offered rate, to 2 %. */
const RATE_TOLERANCE = 0.02;

let resultsDir: string;
let failed = false;
const runIds: string[] = [];

async function runAndRead(scenario: string): Promise<{ summary: RunSummary; cells: CellSummary[]; dir: string }> {
  const outcome = await runScenario(path.join(repoRoot, "loadtests/scenarios", scenario), {
    resultsDir,
    events: { cellDone: (cell, s) => console.log(`calibration: ${cell.id} ${s.status}${s.error ? `: ${s.error}` : ""}`) },
  });
  runIds.push(outcome.runId);
  expect(outcome.status).toBe("complete");
  const summary = RunSummarySchema.parse(JSON.parse(await readFile(path.join(outcome.dir, "summary.json"), "utf8")));
  const cells = await Promise.all(
    summary.cells.map(async (c) =>
      CellSummarySchema.parse(JSON.parse(await readFile(path.join(outcome.dir, "cells", c.id, "summary.json"), "utf8"))),
    ),
  );
  for (const r of summary.rows) console.log(`calibration: ${figures(r)}`);
  return { summary, cells, dir: outcome.dir };
}

/** ok replies per second (one repeat, so the mean is the figure); NaN when nothing was measured. */
const throughput = (r: RowSummary): number => r.throughput.mean ?? Number.NaN;

function row(summary: RunSummary, workload: string, group: string): RowSummary {
  const r = summary.rows.find((x) => x.workload === workload && x.group === group);
  if (!r) throw new Error(`no row ${workload}/${group} in ${summary.rows.map((x) => x.key).join(", ")}`);
  return r;
}

/** Every figure of the run, in failure messages: a red calibration is read from these. */
function figures(r: RowSummary): string {
  const l = r.latency;
  const ms = (v: number | undefined) => (v === undefined ? "-" : v.toFixed(2));
  return `${r.key} (${r.tool}, ${r.loadModel} model): ${throughput(r).toFixed(2)} req/s, sent ${r.sent}, ok ${r.ok}, dropped ${r.dropped}, errors ${r.errorsTotal}; ms min ${ms(l?.min)} p50 ${ms(l?.p50)} p90 ${ms(l?.p90)} p99 ${ms(l?.p99)} p99.9 ${ms(l?.p999)} max ${ms(l?.max)}`;
}

function expectEveryCellRan(summary: RunSummary): void {
  expect(summary.cells.map((c) => `${c.id} ${c.status} ${c.error ?? ""}`.trim())).toEqual(summary.cells.map((c) => `${c.id} ok`));
}

/** Each row says which tool and load model produced it, in the run summary and in its cell. */
/** The row's merged latency, which must exist: its p50 is the service time, its minimum above the floor. */
function expectServiceTime(r: RowSummary): NonNullable<RowSummary["latency"]> {
  const l = r.latency;
  expect(l, figures(r)).not.toBeNull();
  expect(l!.p50, figures(r)).toBeGreaterThanOrEqual(SERVICE_MS);
  expect(l!.p50, figures(r)).toBeLessThanOrEqual(P50_MAX);
  expect(l!.min, figures(r)).toBeGreaterThanOrEqual(FLOOR);
  return l!;
}

function expectLabelled(r: RowSummary, cells: CellSummary[], tool: string, loadModel: "open" | "closed"): void {
  expect(r.tool, r.key).toBe(tool);
  expect(r.loadModel, r.key).toBe(loadModel);
  expect(r.load.model, r.key).toBe(loadModel);
  const g = cells.find((c) => c.key === r.cellKey)?.groups.find((x) => x.group === r.group);
  expect(g, r.key).toBeDefined();
  expect(g?.loadModel, r.key).toBe(loadModel);
  expect(g?.tool, r.key).toBe(tool);
  // The summary's own distinction: an open model has planned sends, a closed one does not.
  expect(g?.plannedSends === null, r.key).toBe(loadModel === "closed");
}

beforeAll(async () => {
  resultsDir = await mkdtemp(path.join(os.tmpdir(), "fiblab-calibration-"));
});

afterEach((ctx) => {
  if (ctx.task.result?.state === "fail") failed = true;
});

afterAll(async () => {
  // Nothing either run started may outlive it: containers and networks carrying its run label.
  const left: string[] = [];
  for (const id of runIds) {
    const label = [`fiblab.run=${id}`];
    const containers = await docker.listContainers({ all: true, filters: { label } });
    const networks = await docker.listNetworks({ filters: { label } });
    left.push(...containers.map((c) => `container ${c.Names.join(",")}`), ...networks.map((n) => `network ${n.Name}`));
  }
  if (failed) console.log(`calibration: archive kept in ${resultsDir}`);
  else await rm(resultsDir, { recursive: true, force: true });
  expect(left).toEqual([]);
});

describe("calibration: a known 50 ms service time", () => {
  let summary: RunSummary;
  let cells: CellSummary[];
  beforeAll(async () => {
    ({ summary, cells } = await runAndRead("calibrate.yaml"));
  });

  it("every cell ran", () => expectEveryCellRan(summary));

  it.each([
    ["tcp-open", "tcp-open", "tcp"],
    ["k6-open", "k6-open", "k6"],
  ])("open model, %s: p50 is the service time, throughput is the offered rate", (workload, group, tool) => {
    const r = row(summary, workload, group);
    const l = expectServiceTime(r);
    // No stall here: the tail stays far below the stall run's (p99 = 56 .. 97 ms seen, the high
    // end while other suites loaded the shared cores).
    expect(l.p99, figures(r)).toBeLessThan(4 * SERVICE_MS);
    expect(r.errorsTotal, figures(r)).toBe(0);
    expect(r.dropped, figures(r)).toBe(0);
    expect(r.loadNotDeliveredRepeats, figures(r)).toBe(0);
    if (r.load.model !== "open") throw new Error(`${r.key} is not an open model`);
    expect(Math.abs(throughput(r) - r.load.rate) / r.load.rate, figures(r)).toBeLessThanOrEqual(RATE_TOLERANCE);
    expectLabelled(r, cells, tool, "open");
  });

  it.each([
    ["closed", "tcp-closed", "tcp"],
    ["closed", "k6-closed", "k6"],
  ])("closed model, %s/%s: p50 is the service time, throughput is what C connections allow", (workload, group, tool) => {
    const r = row(summary, workload, group);
    const l = expectServiceTime(r);
    expect(r.errorsTotal, figures(r)).toBe(0);
    if (r.load.model !== "closed") throw new Error(`${r.key} is not a closed model`);
    // Little's law: requests in flight = throughput × mean latency. A closed model keeps at most
    // C in flight (less by the client's turnaround between a reply and the next send), so its
    // throughput is set by the service time: C / 50 ms = 40 req/s for C = 2, not by any rate.
    const inFlight = throughput(r) * (l.mean / 1000);
    const c = r.load.connections * r.load.pipelining;
    expect(inFlight, figures(r)).toBeLessThanOrEqual(c * 1.01);
    expect(inFlight, figures(r)).toBeGreaterThanOrEqual(c * 0.95);
    expectLabelled(r, cells, tool, "closed");
  });
});

/**
 * The same target freezing once for STALL_MS = 1 s inside a D = 10 s window, T = SERVICE_MS:
 *
 * Open model (latency from the intended send time): a send intended u ms after the freeze began
 * waits S − u + T; one intended v < T ms before it had its reply due during the freeze and waits
 * S + v. So a share (S + 2T − L) / D of all sends take longer than L (T < L ≤ S). The freeze
 * covers S / D = 10 % of the intended sends, far over the 1 % a p99 ignores:
 * p99 ≈ S + 2T − 0.01 D = 1000 + 100 − 100 = 1000 ms, and (1100 − 800) / 10000 = 3 % of sends are
 * over 800 ms, so p99 ≥ 800 ms with room to spare, whatever the rate.
 *
 * Closed model (C connections, one request in flight each, the next sent on a reply): the freeze
 * catches exactly C requests (they wait S .. S + T) while each connection makes
 * (D − S) / T + 1 ≈ 181 requests: 1 / 181 = 0.55 % of samples, under the 1 % a p99 ignores. Its
 * p99 stays near T; only p99.9 and max see the freeze.
 *
 * k6's open model (constant-arrival-rate) sends an iteration only if a VU is free, and drops it
 * otherwise. The orchestrator pre-allocates rate / 2 = 20 VUs (k6VuPool) and k6 adds VUs slowly,
 * so during the freeze the pooled VUs' sends go out on time and wait out the stall (≥ 1.5 % of
 * the 400) while later arrivals may be dropped: p99 shows the freeze either way, and when
 * anything was dropped the summary must say the load was not delivered.
 */
describe("calibration: a 1 s stall in the window", () => {
  let summary: RunSummary;
  let cells: CellSummary[];
  beforeAll(async () => {
    ({ summary, cells } = await runAndRead("calibrate-stall.yaml"));
  });

  it("every cell ran", () => expectEveryCellRan(summary));

  it("the TCP client's open model shows the stall at p99, and delivered its whole load", () => {
    const r = row(summary, "open", "tcp-open");
    const l = r.latency!;
    expect(l.p99, figures(r)).toBeGreaterThanOrEqual(0.8 * STALL_MS);
    // The send intended as the freeze began waited all of it.
    expect(l.max, figures(r)).toBeGreaterThanOrEqual(STALL_MS);
    expect(l.max, figures(r)).toBeLessThan(STALL_MS + 4 * SERVICE_MS);
    // Nine tenths of the window are untouched.
    expect(l.p50, figures(r)).toBeLessThan(2 * SERVICE_MS);
    expect(r.errorsTotal, figures(r)).toBe(0);
    expect(r.dropped, figures(r)).toBe(0);
    if (r.load.model !== "open") throw new Error(`${r.key} is not an open model`);
    expect(Math.abs(throughput(r) - r.load.rate) / r.load.rate, figures(r)).toBeLessThanOrEqual(RATE_TOLERANCE);
    expectLabelled(r, cells, "tcp", "open");
  });

  it("k6's open model shows the stall at p99, and says so when it dropped sends", () => {
    const r = row(summary, "open", "k6-open");
    const l = r.latency!;
    expect(l.p99, figures(r)).toBeGreaterThanOrEqual(0.8 * STALL_MS);
    expect(l.max, figures(r)).toBeLessThan(STALL_MS + 4 * SERVICE_MS);
    expect(r.errorsTotal, figures(r)).toBe(0);
    if (r.dropped > 0) {
      expect(r.loadNotDeliveredRepeats, figures(r)).toBe(1);
      expect(
        r.notes.some((n) => n.startsWith("open-model load not delivered")),
        r.notes.join("\n"),
      ).toBe(true);
    }
    expectLabelled(r, cells, "k6", "open");
  });

  it.each([
    ["tcp-closed", "tcp"],
    ["k6-closed", "k6"],
  ])("the closed model (%s) hides the stall at p99; only its max shows it", (group, tool) => {
    const r = row(summary, "closed", group);
    const l = r.latency!;
    // Well under the stall and under half the open model's floor. Not "near 50 ms": the stall
    // already holds C of the ~3.4 samples per group a p99 may ignore, so any host hiccup on the
    // shared cores (it delays every connection's in-flight request at once) sets the p99 (seen:
    // 53 .. 143 ms over 5 runs).
    expect(l.p99, figures(r)).toBeLessThan(0.4 * STALL_MS);
    // The stall did happen in this cell's window: the requests in flight when it began waited it out.
    expect(l.max, figures(r)).toBeGreaterThanOrEqual(0.9 * STALL_MS);
    expect(l.p50, figures(r)).toBeLessThanOrEqual(P50_MAX);
    expect(r.errorsTotal, figures(r)).toBe(0);
    expectLabelled(r, cells, tool, "closed");
  });
});
