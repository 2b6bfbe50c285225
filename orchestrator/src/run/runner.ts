import { mkdir } from "node:fs/promises";
import path from "node:path";
import { down, up, type Deployment } from "../docker/compose.js";
import { freePort } from "../docker/ports.js";
import { projectLabel, sweepByLabel } from "../docker/sweep.js";
import { loadCatalog, findModel, repoRoot } from "../models/catalog.js";
import type { Manifest } from "../models/manifest.js";
import { loadScenarioFile } from "../scenario/load.js";
import { expandScenario, type Cell } from "../scenario/expand.js";
import type { Scenario } from "../scenario/schema.js";
import { summariseCell, type CellSummary } from "../measure/cell-summary.js";
import { summariseRun, type RunSummary } from "../measure/run-summary.js";
import { RunDir } from "../archive/run-dir.js";
import { entryFor, recordRun } from "../archive/index.js";
import { renderMarkdown } from "../report/markdown.js";
import { renderHtml } from "../report/html.js";
import { readChartJs } from "../report/chartjs.js";
import { captureEnvironment } from "./environment.js";
import { verifyModel } from "./verify.js";
import { runCellFleet, sweepFleet } from "./fleet.js";

export type Phase = "up" | "verify" | "warmup" | "load" | "collect" | "down";

/** What the progress display is told. */
export interface RunEvents {
  planned?(info: { runId: string; cells: Cell[]; seed: number }): void;
  phase?(cell: Cell, phase: Phase, info?: { durationMs?: number }): void;
  rate?(cell: Cell, rps: number): void;
  cellDone?(cell: Cell, summary: CellSummary): void;
  log?(message: string): void;
}

export interface RunOptions {
  resultsDir?: string;
  seed?: number;
  events?: RunEvents;
  signal?: AbortSignal;
}

export interface RunOutcome {
  runId: string;
  dir: string;
  status: "complete" | "incomplete";
  summary?: RunSummary;
  markdown?: string;
}

export const RUN_LABEL = "fiblab.run";

/** The environment a model's compose service is started with, from its topology. */
export function deploymentEnv(manifest: Manifest, scenario: Scenario, topology: Cell["topology"]): Record<string, string> {
  const env: Record<string, string> = {
    CPUS: String(topology.cpus),
    UPSTREAM_KEEPALIVE: manifest.front.upstreamKeepalive ? "32" : "0",
    BALANCE: scenario.front?.balance ?? "round_robin",
  };
  if (scenario.front?.cpus !== undefined) env.FRONT_CPUS = String(scenario.front.cpus);
  if (topology.workers !== undefined) env.WORKERS = String(topology.workers);
  if (topology.threads !== undefined) env.THREADS = String(topology.threads);
  if (topology.memory !== undefined) env.MEMORY = topology.memory;
  for (const [k, v] of Object.entries(topology.env ?? {})) env[k] = String(v);
  return env;
}

class Interrupted extends Error {
  constructor() {
    super("interrupted");
  }
}

function checkAbort(signal?: AbortSignal) {
  if (signal?.aborted) throw new Interrupted();
}

/**
 * `lab run`: validate, expand, and for each cell in the recorded random order bring the model up
 * in its topology, verify it, load it with the fleet, sample its containers, tear it down. Every
 * container a run makes carries its run label, so an interrupted run is swept up completely and
 * its folder is renamed to say it is incomplete.
 */
/** Validate a scenario file against the catalog and expand it into cells; starts nothing. */
export async function planScenario(file: string, seed?: number) {
  const catalog = await loadCatalog();
  const { scenario, text } = await loadScenarioFile(file, {
    knownModels: catalog.map((m) => m.name),
    modelProtocols: Object.fromEntries(catalog.map((m) => [m.name, m.protocols])),
  });
  const expansion = expandScenario(scenario, seed !== undefined ? { seed } : {});
  return { catalog, scenario, text, expansion };
}

export async function runScenario(file: string, opts: RunOptions = {}): Promise<RunOutcome> {
  const events = opts.events ?? {};
  const resultsDir = opts.resultsDir ?? path.join(repoRoot, "results");
  const { catalog, scenario, text, expansion } = await planScenario(file, opts.seed);
  const run = await RunDir.create(resultsDir, scenario.name);
  const runLabel = `${RUN_LABEL}=${run.id}`;
  events.planned?.({ runId: run.id, cells: expansion.cells, seed: expansion.seed });

  const images = ["fiblab/front:latest", "fiblab/k6:latest", "fiblab/loadclient:latest", ...scenario.models.map((m) => `fiblab/${m}:latest`)];
  const environment = await captureEnvironment(images);
  await run.writeText("scenario.yaml", text);
  await run.writeJson("scenario.resolved.json", { ...scenario, seed: expansion.seed, order: expansion.cells.map((c) => c.id) });
  await run.writeJson("environment.json", environment);

  const startedAt = new Date();
  const cells: CellSummary[] = [];
  let current: Deployment | undefined;
  try {
    for (const cell of expansion.cells) {
      checkAbort(opts.signal);
      const manifest = findModel(catalog, cell.model);
      current = {
        project: `fiblab-${run.id.toLowerCase().replace(/[^a-z0-9]+/g, "")}-${cell.order}`.slice(0, 60),
        model: cell.model,
        replicas: cell.topology.replicas,
        env: deploymentEnv(manifest, scenario, cell.topology),
        httpPort: await freePort(),
        tcpPort: await freePort(),
        labels: { [RUN_LABEL]: run.id, "fiblab.cell": cell.id },
        ...(cell.topology.cpuset !== undefined ? { cpuset: cell.topology.cpuset } : {}),
      };
      const summary = await runCell(cell, manifest, current, run, events, opts.signal);
      cells.push(summary);
      await run.writeJson(`cells/${cell.id}/summary.json`, summary);
      events.cellDone?.(cell, summary);
      events.phase?.(cell, "down");
      await down(current);
      await sweepByLabel(projectLabel(current.project));
      current = undefined;
    }
    checkAbort(opts.signal);
  } catch (err) {
    // Whatever happened, nothing the run created may outlive it.
    await sweepFleet(run.id);
    if (current) await down(current).catch(() => undefined);
    await sweepByLabel(runLabel);
    if (current) await sweepByLabel(projectLabel(current.project));
    const interrupted = err instanceof Interrupted || opts.signal?.aborted === true;
    const reason = interrupted ? "interrupted (SIGINT/SIGTERM)" : `failed: ${(err as Error).stack ?? err}`;
    if (cells.length > 0) {
      await run.writeJson("cells.partial.json", cells).catch(() => undefined);
    }
    const dir = await run.abandon(`${reason}\n${cells.length} of ${expansion.cells.length} cells finished.`);
    await recordRun(resultsDir, entryFor(run, { scenario: scenario.name, cells: cells.length, gitCommit: environment.gitCommit, reason }));
    if (interrupted) return { runId: run.id, dir, status: "incomplete" };
    throw err;
  }

  const summary = summariseRun({
    runId: run.id,
    scenario,
    seed: expansion.seed,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    environment: {
      host: environment.host,
      kernel: environment.kernel,
      cpuModel: environment.cpuModel,
      cores: environment.cores,
      memoryBytes: environment.memoryBytes,
      dockerVersion: environment.docker.server,
      nodeVersion: environment.node,
      gitCommit: environment.gitCommit,
      gitDirty: environment.gitDirty,
      images: environment.images,
    },
    cells,
  });
  const markdown = renderMarkdown(summary);
  await run.writeJson("summary.json", summary);
  await run.writeText("report.md", markdown);
  await run.writeText("report.html", renderHtml(summary, { chartJs: await readChartJs() }));
  const dir = await run.finalize();
  await recordRun(resultsDir, entryFor(run, { scenario: scenario.name, cells: cells.length, gitCommit: environment.gitCommit }));
  return { runId: run.id, dir, status: "complete", summary, markdown };
}

async function runCell(
  cell: Cell,
  manifest: Manifest,
  d: Deployment,
  run: RunDir,
  events: RunEvents,
  signal: AbortSignal | undefined,
): Promise<CellSummary> {
  const started = new Date();
  const base = { cell, startedAt: started.toISOString() };
  const failed = (error: string): CellSummary =>
    summariseCell({ ...base, results: [], status: "failed", error, finishedAt: new Date().toISOString() });

  events.phase?.(cell, "up");
  try {
    await up(d);
  } catch (e) {
    return failed(`model did not come up: ${(e as { all?: string }).all ?? (e as Error).message}`.slice(0, 4000));
  }
  checkAbort(signal);
  events.phase?.(cell, "verify");
  const verification = await verifyModel(manifest.protocols, { http: d.httpPort, tcp: d.tcpPort });
  await run.writeJson(`cells/${cell.id}/verification.json`, verification);
  if (!verification.ok) {
    const bad = verification.checks.filter((c) => !c.ok).map((c) => `${c.protocol} ${c.check}: ${c.detail}`);
    return failed(`verification failed: ${bad.join("; ")}`);
  }
  checkAbort(signal);

  const outDir = await run.mkdir(`cells/${cell.id}/clients`);
  const fleet = await runCellFleet({
    cell,
    runId: run.id,
    network: `${d.project}_lab`,
    outDir,
    labels: { [RUN_LABEL]: run.id, "fiblab.cell": cell.id },
    ...(signal ? { signal } : {}),
    onPhase: (phase, durationMs) => events.phase?.(cell, phase, durationMs !== undefined ? { durationMs } : {}),
    onRate: (rps) => events.rate?.(cell, rps),
    onLog: (line) => events.log?.(line),
  });
  checkAbort(signal);
  events.phase?.(cell, "collect");
  const failedClients = fleet.errors.length > 0;
  return summariseCell({
    ...base,
    results: fleet.results,
    containers: fleet.containers,
    ...(fleet.windowMs !== undefined ? { containersWindowMs: fleet.windowMs } : {}),
    ...(failedClients ? { status: "failed" as const, error: `load clients failed: ${fleet.errors.join("; ")}` } : {}),
    finishedAt: new Date().toISOString(),
    notes: fleet.notes,
  });
}
