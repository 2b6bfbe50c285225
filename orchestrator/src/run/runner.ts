import path from "node:path";
import type { Deployment } from "../docker/compose.js";
import { docker } from "../docker/client.js";
import { LABEL, cellLabels } from "../docker/labels.js";
import { freePort } from "../docker/ports.js";
import { runLabel } from "../docker/sweep.js";
import { engineFor, type Engine, type EngineName } from "../engine/index.js";
import { K6_IMAGE } from "../fleet/drivers/k6.js";
import { LOADCLIENT_IMAGE } from "../fleet/drivers/node-client.js";
import { UserError } from "../errors.js";
import { loadCatalog, findModel, repoRoot } from "../models/catalog.js";
import { resolveKnobs } from "../models/knobs.js";
import type { Manifest } from "../models/manifest.js";
import { loadScenarioFile, scenarioContext } from "../scenario/load.js";
import { expandScenario, type Cell, type Expansion } from "../scenario/expand.js";
import { DEFAULT_RESTART, isRelativeLoad, type Scenario, type Topology } from "../scenario/schema.js";
import { summariseCell, timeseriesArchive, type CellInput, type CellSummary } from "../measure/cell-summary.js";
import { summariseRun, type RunSummary } from "../measure/run-summary.js";
import { RunDir } from "../archive/run-dir.js";
import { entryFor, recordRun } from "../archive/index.js";
import { renderMarkdown } from "../report/markdown.js";
import { renderHtml } from "../report/html.js";
import { readChartJs } from "../report/chartjs.js";
import { captureEnvironment, type Environment } from "./environment.js";
import { verifyModel } from "./verify.js";
import { watchColdStart } from "./cold-start.js";
import { measuredBy, runCellFleet } from "./fleet.js";
import { probeSettings, resolveCell, runProbes } from "./probe.js";
import type { ProbeRecord, RelativeRateRecord } from "../measure/limits.js";

export type Phase = "up" | "verify" | "warmup" | "load" | "collect" | "down";

/** What the progress display is told. */
export interface RunEvents {
  planned?(info: { runId: string; cells: Cell[]; seed: number }): void;
  phase?(cell: Cell, phase: Phase, info?: { durationMs?: number }): void;
  rate?(cell: Cell, rps: number): void;
  cellDone?(cell: Cell, summary: CellSummary): void;
  log?(message: string): void;
  /** Something the user should know before trusting the figures (another run sharing the machine). */
  warn?(message: string): void;
}

export interface RunOptions {
  /** Where the cells run (engine/): this machine's compose (default) or the swarm of `npm run swarm:up`. */
  engine?: EngineName;
  /** The swarm's name (scripts/swarm: FIBLAB_SWARM_PREFIX); default as engineFor. */
  swarmPrefix?: string;
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

/** Upstream keep-alive connections the front holds per model, unless the manifest forbids them. */
const UPSTREAM_KEEPALIVE = 32;

/** The environment a model's compose service is started with: its knobs, limits and the front's settings. */
export function deploymentEnv(manifest: Manifest, scenario: Scenario, topology: Cell["topology"]): Record<string, string> {
  return {
    ...resolveKnobs(manifest, topology),
    CPUS: String(topology.cpus),
    UPSTREAM_KEEPALIVE: manifest.front.upstreamKeepalive ? String(UPSTREAM_KEEPALIVE) : "0",
    BALANCE: topology.balance ?? scenario.front.balance,
    RESTART: topology.restart ?? DEFAULT_RESTART,
    ...(scenario.front.cpus !== undefined ? { FRONT_CPUS: String(scenario.front.cpus) } : {}),
    ...(topology.memory !== undefined ? { MEMORY: topology.memory } : {}),
  };
}

class Interrupted extends Error {
  constructor() {
    super("interrupted");
  }
}

function checkAbort(signal?: AbortSignal) {
  if (signal?.aborted) throw new Interrupted();
}

/** Validate a scenario file against the catalog and expand it into cells; starts nothing. */
export async function planScenario(file: string, seed?: number) {
  const catalog = await loadCatalog();
  const { scenario, text } = await loadScenarioFile(file, scenarioContext(catalog));
  const expansion = expandScenario(scenario, seed !== undefined ? { seed } : {});
  return { catalog, scenario, text, expansion };
}

/** The images a scenario's cells run: its models, the front, and each load tool's it uses (swarm:up pushes these). */
export function scenarioImages(scenario: Pick<Scenario, "models" | "workloads">): string[] {
  const tools = new Set(scenario.workloads.flatMap((w) => w.groups.map((g) => (g.tool === "k6" ? K6_IMAGE : LOADCLIENT_IMAGE))));
  return [...scenario.models.map((m) => `fiblab/${m}:latest`), "fiblab/front:latest", ...tools];
}

/** Refuses, in one line, a scenario that needs what the engine cannot do; before anything starts. */
export function checkEngine(engine: Pick<Engine, "name" | "unsupported">, scenario: Scenario): void {
  const reasons = engine.unsupported(scenario);
  if (reasons.length > 0) throw new UserError(`the ${engine.name} engine cannot run ${scenario.name}: ${reasons.join("; ")}`);
}

/** Runs of the lab other than this one that have containers up right now. */
export async function otherActiveRuns(runId: string): Promise<string[]> {
  const list = await docker.listContainers({ filters: { label: [LABEL.run] } }).catch(() => []);
  return [...new Set(list.map((c) => c.Labels[LABEL.run] ?? "").filter((id) => id && id !== runId))];
}

/** The compose project of one cell: every container and network of the deployment carries it. */
function projectName(runId: string, order: number | string): string {
  return `fiblab-${runId.toLowerCase().replace(/[^a-z0-9]+/g, "")}-${order}`.slice(0, 60);
}

/** The cell's deployment; its ports are where the engine's front answers on 127.0.0.1. */
async function deploymentFor(
  at: { model: string; topology: Topology; id: string; order: number | string },
  manifest: Manifest,
  ctx: Pick<RunContext, "scenario" | "engine"> & { runId: string },
): Promise<Deployment> {
  const d: Deployment = {
    project: projectName(ctx.runId, at.order),
    model: at.model,
    replicas: at.topology.replicas,
    env: deploymentEnv(manifest, ctx.scenario, at.topology),
    httpPort: await freePort(),
    tcpPort: await freePort(),
    labels: cellLabels(ctx.runId, at.id),
    ...(at.topology.cpuset !== undefined ? { cpuset: at.topology.cpuset } : {}),
  };
  const ports = await ctx.engine.endpoints(d);
  return { ...d, httpPort: ports.http, tcpPort: ports.tcp };
}

interface RunContext {
  engine: Engine;
  run: RunDir;
  scenario: Scenario;
  expansion: Expansion;
  catalog: Manifest[];
  environment: Environment;
  events: RunEvents;
  signal: AbortSignal | undefined;
  /** The probes measured before the cells (run/probe.ts); empty when the scenario needs none. */
  probes: ProbeRecord[];
}

/** Every cell in the recorded order; `current` always names the deployment that is up, for cleanup. */
async function runCells(ctx: RunContext, cells: CellSummary[], current: { d?: Deployment }): Promise<void> {
  for (const cell of ctx.expansion.cells) {
    checkAbort(ctx.signal);
    const manifest = findModel(ctx.catalog, cell.model);
    current.d = await deploymentFor(cell, manifest, { ...ctx, runId: ctx.run.id });
    const summary = await runResolvedCell(cell, manifest, current.d, ctx);
    cells.push(summary);
    await ctx.run.writeJson(`cells/${cell.id}/summary.json`, summary);
    ctx.events.cellDone?.(cell, summary);
    ctx.events.phase?.(cell, "down");
    await ctx.engine.teardown(current.d);
    current.d = undefined;
  }
  checkAbort(ctx.signal);
}

/**
 * `lab run`: validate, expand, and for each cell in the recorded random order bring the model up
 * in its topology, verify it, load it with the fleet, sample its containers, tear it down. Every
 * container a run makes carries its run label, so an interrupted run is swept up completely and
 * its folder is renamed to say it is incomplete.
 */
export async function runScenario(file: string, opts: RunOptions = {}): Promise<RunOutcome> {
  const events = opts.events ?? {};
  const resultsDir = opts.resultsDir ?? path.join(repoRoot, "results");
  const engine = engineFor(opts.engine ?? "compose", opts.swarmPrefix !== undefined ? { swarmPrefix: opts.swarmPrefix } : {});
  const { catalog, scenario, text, expansion } = await planScenario(file, opts.seed);
  checkEngine(engine, scenario);
  const engineInfo = await engine.describe();
  // A run elsewhere than this machine says so in its folder's name.
  const run = await RunDir.create(resultsDir, engine.name === "compose" ? scenario.name : `${scenario.name}-${engine.name}`);
  events.planned?.({ runId: run.id, cells: expansion.cells, seed: expansion.seed });
  const others = await otherActiveRuns(run.id);
  if (others.length)
    events.warn?.(
      `another lab run is active on this machine (${others.join(", ")}): both share its CPUs; cells it overlaps will be flagged machine busy`,
    );

  const images = [
    "fiblab/front:latest",
    "fiblab/k6:latest",
    "fiblab/loadclient:latest",
    ...scenario.models.map((m) => `fiblab/${m}:latest`),
  ];
  const environment = { ...(await captureEnvironment(images)), engine: engineInfo };
  await run.writeText("scenario.yaml", text);
  await run.writeJson("scenario.resolved.json", { ...scenario, seed: expansion.seed, order: expansion.cells.map((c) => c.id) });
  await run.writeJson("environment.json", environment);

  const ctx: RunContext = { engine, run, scenario, expansion, catalog, environment, events, signal: opts.signal, probes: [] };
  const startedAt = new Date();
  const cells: CellSummary[] = [];
  const current: { d?: Deployment } = {};
  try {
    ctx.probes = await probeAll(ctx, current);
    await runCells(ctx, cells, current);
  } catch (err) {
    // Whatever happened, nothing the run created may outlive it.
    if (current.d) await engine.teardown(current.d).catch(() => undefined);
    await engine.sweep(runLabel(run.id));
    const interrupted = err instanceof Interrupted || opts.signal?.aborted === true;
    const reason = interrupted ? "interrupted (SIGINT/SIGTERM)" : `failed: ${(err as Error).stack ?? err}`;
    if (cells.length > 0) await run.writeJson("cells.partial.json", cells).catch(() => undefined);
    const dir = await run.abandon(`${reason}\n${cells.length} of ${expansion.cells.length} cells finished.`);
    await recordRun(resultsDir, entryFor(run, { scenario: scenario.name, cells: cells.length, gitCommit: environment.gitCommit, reason }));
    if (interrupted) return { runId: run.id, dir, status: "incomplete" };
    throw err;
  }
  return finishRun(ctx, cells, startedAt, resultsDir);
}

async function finishRun(ctx: RunContext, cells: CellSummary[], startedAt: Date, resultsDir: string): Promise<RunOutcome> {
  const { run, scenario, expansion, environment } = ctx;
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
      cgroupVersion: environment.docker.cgroupVersion,
      storageDriver: environment.docker.storageDriver,
      nodeVersion: environment.node,
      gitCommit: environment.gitCommit,
      gitDirty: environment.gitDirty,
      images: environment.images,
      engine: environment.engine,
    },
    cells,
    probes: ctx.probes,
  });
  const markdown = renderMarkdown(summary);
  await run.writeJson("summary.json", summary);
  await run.writeText("report.md", markdown);
  await run.writeText("report.html", renderHtml(summary, { chartJs: await readChartJs() }));
  const dir = await run.finalize();
  await recordRun(resultsDir, entryFor(run, { scenario: scenario.name, cells: cells.length, gitCommit: environment.gitCommit }));
  return { runId: run.id, dir, status: "complete", summary, markdown };
}

/** The run's probes, when the scenario asks for them or writes relative rates. */
async function probeAll(ctx: RunContext, current: { d?: Deployment }): Promise<ProbeRecord[]> {
  const probe = probeSettings(ctx.scenario);
  if (!probe) return [];
  return runProbes(
    {
      engine: ctx.engine,
      run: ctx.run,
      scenario: ctx.scenario,
      catalog: ctx.catalog,
      probe,
      seed: ctx.expansion.seed,
      signal: ctx.signal,
      current,
      deploy: (model, topology, id, index) =>
        deploymentFor({ model, topology, id, order: `p${index}` }, findModel(ctx.catalog, model), { ...ctx, runId: ctx.run.id }),
      log: (m) => ctx.events.log?.(m),
    },
    ctx.expansion.cells,
  );
}

/** A cell whose relative rates could not be resolved is recorded as failed, never run at a guessed rate. */
async function runResolvedCell(cell: Cell, manifest: Manifest, d: Deployment, ctx: RunContext): Promise<CellSummary> {
  let resolved: ReturnType<typeof resolveCell>;
  try {
    resolved = resolveCell(cell, ctx.probes);
  } catch (e) {
    // Recorded without the groups it could not size: no figure may appear at a guessed rate.
    const now = new Date().toISOString();
    const groups = cell.workload.groups.filter((g) => !isRelativeLoad(g.load));
    const bare = { ...cell, workload: { ...cell.workload, groups: groups as Cell["workload"]["groups"] } };
    return summariseCell({ cell: bare, results: [], status: "failed", error: (e as Error).message, startedAt: now, finishedAt: now });
  }
  return runCell(resolved.cell, manifest, d, ctx, resolved.relativeRates);
}

async function runCell(
  cell: Cell,
  manifest: Manifest,
  d: Deployment,
  ctx: RunContext,
  relativeRates: Record<string, RelativeRateRecord> = {},
): Promise<CellSummary> {
  const { run, events, signal, engine } = ctx;
  const base = { cell, startedAt: new Date().toISOString() };
  const failed = (error: string): CellSummary =>
    summariseCell({ ...base, results: [], status: "failed", error, finishedAt: new Date().toISOString() });

  events.phase?.(cell, "up");
  const coldStartWatch = watchColdStart(manifest.protocols, { http: d.httpPort, tcp: d.tcpPort });
  try {
    await engine.deploy(d);
  } catch (e) {
    await coldStartWatch.stop();
    return failed(`model did not come up: ${(e as { all?: string }).all ?? (e as Error).message}`.slice(0, 4000));
  }
  const coldStart = await coldStartWatch.stop();
  checkAbort(signal);
  events.phase?.(cell, "verify");
  const verification = await verifyModel(manifest.protocols, { http: d.httpPort, tcp: d.tcpPort });
  await run.writeJson(`cells/${cell.id}/verification.json`, verification);
  if (!verification.ok) {
    const bad = verification.checks.filter((c) => !c.ok).map((c) => `${c.protocol} ${c.check}: ${c.detail}`);
    return failed(`verification failed: ${bad.join("; ")}`);
  }
  checkAbort(signal);

  const fleet = await runCellFleet({
    engine,
    cell,
    runId: run.id,
    network: engine.network(d),
    outDir: await run.mkdir(`cells/${cell.id}/clients`),
    labels: cellLabels(run.id, cell.id),
    seed: ctx.expansion.seed + cell.order,
    deployment: d,
    manifest,
    ...(signal ? { signal } : {}),
    onPhase: (phase, durationMs) => events.phase?.(cell, phase, durationMs !== undefined ? { durationMs } : {}),
    onRate: (rps) => events.rate?.(cell, rps),
    onLog: (line) => events.log?.(line),
  });
  const placements = [...(await engine.placements(d).catch(() => [])), ...fleet.placements];
  await run.writeJson(`cells/${cell.id}/placement.json`, { engine: engine.name, placements, dropped: engine.dropped(d) });
  checkAbort(signal);
  events.phase?.(cell, "collect");
  const input: CellInput = {
    ...base,
    coldStartMs: coldStart,
    ...measuredBy(fleet),
    events: fleet.events,
    relativeRates,
    containerSeries: fleet.containerSeries,
    replicaTicks: fleet.replicaTicks,
    ...(fleet.memory ? { memory: fleet.memory } : {}),
    placements,
    ...(fleet.errors.length > 0 ? { status: "failed" as const, error: `load clients failed: ${fleet.errors.join("; ")}` } : {}),
    finishedAt: new Date().toISOString(),
  };
  // Each second's merged histograms per group, beside the summary's columns.
  const perSecond = timeseriesArchive(input);
  if (perSecond) await run.writeJson(`cells/${cell.id}/timeseries.json`, perSecond);
  return summariseCell(input);
}
