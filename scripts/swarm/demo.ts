/**
 * scripts/swarm/demo.ts <scenario>: every cell of a scenario on the swarm swarm:up made, through
 * the Swarm engine (orchestrator/src/engine), archived like `lab run` (results/<stamp>-<name>/
 * with cells/<id>/placement.json naming the node of every part). A stand-in until the runner
 * takes `--engine swarm`; scripts/swarm/demo.sh brings the swarm up and down around it.
 */
import path from "node:path";
import { entryFor, recordRun } from "../../orchestrator/src/archive/index.js";
import { RunDir } from "../../orchestrator/src/archive/run-dir.js";
import { cellLabels, LABEL, labelFilter } from "../../orchestrator/src/docker/labels.js";
import { SwarmEngine } from "../../orchestrator/src/engine/swarm.js";
import { summariseCell, type CellSummary } from "../../orchestrator/src/measure/cell-summary.js";
import { summariseRun } from "../../orchestrator/src/measure/run-summary.js";
import { findModel, repoRoot } from "../../orchestrator/src/models/catalog.js";
import { renderMarkdown } from "../../orchestrator/src/report/markdown.js";
import { captureEnvironment, type Environment } from "../../orchestrator/src/run/environment.js";
import { deploymentEnv, planScenario } from "../../orchestrator/src/run/runner.js";
import { verifyModel } from "../../orchestrator/src/run/verify.js";
import { watchColdStart } from "../../orchestrator/src/run/cold-start.js";
import { readChartJs } from "../../orchestrator/src/report/chartjs.js";
import { renderHtml } from "../../orchestrator/src/report/html.js";
import type { Cell } from "../../orchestrator/src/scenario/expand.js";

type Plan = Awaited<ReturnType<typeof planScenario>>;

async function runCell(engine: SwarmEngine, run: RunDir, plan: Plan, cell: Cell): Promise<CellSummary> {
  const manifest = findModel(plan.catalog, cell.model);
  const ports = await engine.endpoints();
  const labels = cellLabels(run.id, cell.id);
  const project = `fiblab-cell-${cell.order}`;
  const d = {
    project,
    model: cell.model,
    replicas: cell.topology.replicas,
    env: deploymentEnv(manifest, plan.scenario, cell.topology),
    httpPort: ports.http,
    tcpPort: ports.tcp,
    labels,
  };
  const startedAt = new Date().toISOString();
  const coldStartWatch = watchColdStart(manifest.protocols, ports);
  try {
    await engine.deploy(d).finally(() => coldStartWatch.stop());
    const verification = await verifyModel(manifest.protocols, ports);
    await run.writeJson(`cells/${cell.id}/verification.json`, verification);
    if (!verification.ok) throw new Error("verification failed");
    const sampler = await engine.sampler(labelFilter(LABEL.cell, cell.id));
    const { durationMs, warmupMs, groups } = cell.workload;
    const outDir = await run.mkdir(`cells/${cell.id}/clients`);
    const fleet = await engine.runFleet(
      {
        runId: run.id,
        cellId: cell.id,
        network: engine.network(d),
        outDir,
        groups,
        durationMs,
        warmupMs,
        labels,
        seed: plan.expansion.seed + cell.order,
      },
      { onPhase: (phase) => void (phase === "measure" ? sampler.start() : phase === "drain" ? sampler.stop() : undefined) },
    );
    const sampled = await sampler.stop().catch(() => undefined);
    const placements = [...(await engine.placements(d)), ...fleet.placements];
    await run.writeJson(`cells/${cell.id}/placement.json`, { engine: "swarm", placements, dropped: engine.dropped.get(project) ?? [] });
    const errors = fleet.clients.flatMap((c) => (c.error ? [`${c.group}[${c.clientIndex}]: ${c.error}`] : []));
    return summariseCell({
      cell,
      startedAt,
      coldStartMs: await coldStartWatch.stop(),
      results: fleet.clients.flatMap((c) => (c.result ? [c.result] : [])),
      containers: sampled?.containers ?? [],
      ...(sampled ? { containersWindowMs: sampled.windowMs } : {}),
      notes: [
        `swarm: model and front on ${[...new Set(placements.filter((p) => p.role !== "client").map((p) => p.node))].join(", ")}; clients on ${[...new Set(fleet.placements.map((p) => p.node))].join(", ")}`,
      ],
      ...(errors.length ? { status: "failed" as const, error: errors.join("; ") } : {}),
      finishedAt: new Date().toISOString(),
    });
  } catch (e) {
    return summariseCell({
      cell,
      startedAt,
      coldStartMs: await coldStartWatch.stop(),
      results: [],
      status: "failed",
      error: (e as Error).message,
      finishedAt: new Date().toISOString(),
    });
  } finally {
    await engine.teardown(d);
  }
}

function runEnvironment(e: Environment) {
  return {
    host: e.host,
    kernel: e.kernel,
    cpuModel: e.cpuModel,
    cores: e.cores,
    memoryBytes: e.memoryBytes,
    dockerVersion: e.docker.server,
    cgroupVersion: e.docker.cgroupVersion,
    storageDriver: e.docker.storageDriver,
    nodeVersion: e.node,
    gitCommit: e.gitCommit,
    gitDirty: e.gitDirty,
    images: e.images,
  };
}

async function main(file: string): Promise<void> {
  const plan = await planScenario(file);
  const resultsDir = path.join(repoRoot, "results");
  const run = await RunDir.create(resultsDir, `${plan.scenario.name}-swarm`);
  const environment = await captureEnvironment([...plan.scenario.models.map((m) => `fiblab/${m}:latest`), "fiblab/front:latest"]);
  await run.writeText("scenario.yaml", plan.text);
  await run.writeJson("environment.json", { ...environment, engine: "swarm" });
  const engine = new SwarmEngine();
  const cells: CellSummary[] = [];
  const startedAt = new Date().toISOString();
  for (const cell of plan.expansion.cells) {
    console.log(`[swarm demo] ${cell.id}`);
    const summary = await runCell(engine, run, plan, cell);
    await run.writeJson(`cells/${cell.id}/summary.json`, summary);
    cells.push(summary);
  }
  const summary = summariseRun({
    runId: run.id,
    scenario: plan.scenario,
    seed: plan.expansion.seed,
    startedAt,
    finishedAt: new Date().toISOString(),
    environment: runEnvironment(environment),
    cells,
  });
  const markdown = renderMarkdown(summary);
  await run.writeJson("summary.json", summary);
  await run.writeText("report.md", markdown);
  await run.writeText("report.html", renderHtml(summary, { chartJs: await readChartJs() }));
  const dir = await run.finalize();
  await recordRun(resultsDir, entryFor(run, { scenario: plan.scenario.name, cells: cells.length, gitCommit: environment.gitCommit }));
  console.log(markdown);
  console.log(`[swarm demo] archived ${dir}`);
  if (cells.some((c) => c.status !== "ok")) process.exitCode = 1;
}

/** The images a scenario needs on the swarm (what demo.sh hands swarm:up). */
async function images(file: string): Promise<void> {
  const { scenario } = await planScenario(file);
  const tools = new Set(scenario.workloads.flatMap((w) => w.groups.map((g) => (g.tool === "k6" ? "fiblab/k6" : "fiblab/loadclient"))));
  console.log([...scenario.models.map((m) => `fiblab/${m}`), "fiblab/front", ...tools].join(" "));
}

const [first, second] = process.argv.slice(2);
const smoke = path.join(repoRoot, "loadtests/scenarios/smoke.yaml");
if (first === "--images") await images(second ?? smoke);
else await main(first ?? smoke);
