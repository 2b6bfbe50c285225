import { execa } from "execa";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { docker } from "../../orchestrator/src/docker/client.js";
import { cellLabels, LABEL, labelFilter } from "../../orchestrator/src/docker/labels.js";
import { SwarmEngine } from "../../orchestrator/src/engine/swarm.js";
import { summariseCell } from "../../orchestrator/src/measure/cell-summary.js";
import { loadCatalog } from "../../orchestrator/src/models/catalog.js";
import { verifyModel } from "../../orchestrator/src/run/verify.js";
import { expandScenario } from "../../orchestrator/src/scenario/expand.js";
import { loadScenarioFile, scenarioContext } from "../../orchestrator/src/scenario/load.js";
import { absoluteLoad } from "../../orchestrator/src/measure/limits.js";
import { RunSummarySchema } from "../../orchestrator/src/measure/run-summary.js";
import { runScenario } from "../../orchestrator/src/run/runner.js";

/**
 * A real three-node swarm (Docker in Docker, scripts/swarm/) of its own name, so a developer's
 * swarm is left alone: the smoke scenario's model on the server node, its first workload's k6
 * clients on the client nodes, figures back in the archive layout; then the whole (shortened)
 * smoke scenario through lab run's runner with `engine: "swarm"`; then swarm:down leaves nothing.
 */
const PREFIX = "fltest-swarm";
const env = { ...process.env, FIBLAB_SWARM_PREFIX: PREFIX };
const scripts = path.resolve(import.meta.dirname, "../../scripts/swarm");
const swarmScript = (name: string, args: string[] = []) => execa("bash", [path.join(scripts, name), ...args], { env, all: true });

/** Everything of this test's swarm still on the host: containers, volumes, networks. */
async function swarmLeftovers(): Promise<string[]> {
  const mine = (name: string) => name.replace(/^\//, "").startsWith(PREFIX);
  const out: string[] = [];
  for (const role of ["swarm-node", "swarm-registry", "swarm-network"]) {
    const filters = { label: [labelFilter(LABEL.role, role)] };
    out.push(...(await docker.listContainers({ all: true, filters })).flatMap((c) => c.Names).filter(mine));
    out.push(...((await docker.listVolumes({ filters })).Volumes ?? []).map((v) => v.Name).filter(mine));
    out.push(...(await docker.listNetworks({ filters })).map((n) => n.Name).filter(mine));
  }
  return out;
}

const SMOKE = path.resolve(import.meta.dirname, "../../loadtests/scenarios/smoke.yaml");

/** The smoke scenario, every workload shortened to 3 s after a 1 s warm-up, as a file in `dir`. */
async function shortSmoke(dir: string): Promise<string> {
  const raw = YAML.parse(await readFile(SMOKE, "utf8")) as { workloads: { duration: string; warmup: string }[] };
  for (const w of raw.workloads) Object.assign(w, { duration: "3s", warmup: "1s" });
  const file = path.join(dir, "smoke-short.yaml");
  await writeFile(file, YAML.stringify(raw));
  return file;
}

/** The smoke scenario's first cell: its first model, topology and workload. */
async function smokeCell() {
  const { scenario } = await loadScenarioFile(SMOKE, scenarioContext(await loadCatalog()));
  const cell = expandScenario(scenario, { seed: 1 }).cells.find((c) => c.workload.name === scenario.workloads[0]?.name);
  if (!cell) throw new Error("smoke has no first workload");
  return cell;
}

describe("swarm engine", () => {
  const engine = new SwarmEngine(PREFIX);
  let results: string;

  beforeAll(async () => {
    results = await mkdtemp(path.join(os.tmpdir(), "fiblab-swarm-"));
    await swarmScript("up.sh", ["fiblab/py-threads", "fiblab/front", "fiblab/k6", "fiblab/loadclient"]);
  });

  afterAll(async () => {
    await swarmScript("down.sh");
    await rm(results, { recursive: true, force: true });
  });

  it("runs a smoke cell with the model on the server node and the clients on client nodes", async () => {
    const cell = await smokeCell();
    const runId = "swarmtest";
    const ports = await engine.endpoints();
    const d = {
      project: "fltest-swarm-cell",
      model: cell.model,
      replicas: cell.topology.replicas,
      env: { CPUS: String(cell.topology.cpus) },
      httpPort: ports.http,
      tcpPort: ports.tcp,
      labels: cellLabels(runId, cell.id),
    };
    await engine.deploy(d);
    try {
      expect((await verifyModel(["http", "tcp"], ports)).ok).toBe(true);
      const outDir = path.join(results, "cells", cell.id, "clients");
      const sampler = await engine.sampler(labelFilter(LABEL.cell, cell.id));
      const fleet = await engine.runFleet(
        {
          runId,
          cellId: cell.id,
          network: engine.network(d),
          outDir,
          groups: cell.workload.groups.map((g) => ({ ...g, load: absoluteLoad(g.load) })),
          durationMs: cell.workload.durationMs,
          warmupMs: cell.workload.warmupMs,
          labels: d.labels,
          seed: 1,
        },
        { onPhase: (phase) => void (phase === "measure" ? sampler.start() : undefined) },
      );
      const sampled = await sampler.stop();
      const placements = [...(await engine.placements(d)), ...fleet.placements];
      expect(fleet.ok).toBe(true);
      // The model and the front on the server node, every client on a client node.
      const swarm = await engine.nodes();
      const nodeOf = (role: string) => [...new Set(placements.filter((p) => p.role === role).map((p) => p.node))];
      expect(nodeOf("model")).toEqual([swarm.servers[0]?.name]);
      expect(nodeOf("client").every((n) => swarm.clients.some((c) => c.name === n))).toBe(true);
      // Raw output copied back into the archive layout, and figures from it.
      const group = cell.workload.groups[0]?.name;
      const raw = JSON.parse(await readFile(path.join(outDir, `${group}-0`, "result.json"), "utf8")) as { requests: { ok: number } };
      expect(raw.requests.ok).toBeGreaterThan(0);
      const summary = summariseCell({
        cell,
        results: fleet.clients.flatMap((c) => (c.result ? [c.result] : [])),
        containers: sampled.containers,
      });
      expect(summary.groups[0]?.throughput).toBeGreaterThan(0);
      expect(summary.groups[0]?.latency?.p99).toBeGreaterThan(0);
      expect(sampled.containers.some((c) => c.role === "model" && c.cpuSeconds > 0)).toBe(true);
    } finally {
      await engine.teardown(d);
    }
  });

  it("sweeps an interrupted cell off every node by its run label", async () => {
    const runId = "swarmsweep";
    const labels = cellLabels(runId, "c1");
    const ports = await engine.endpoints();
    const d = {
      project: "fltest-sweep",
      model: "py-threads",
      replicas: 2,
      env: { CPUS: "0.5" },
      httpPort: ports.http,
      tcpPort: ports.tcp,
      labels,
    };
    await engine.deploy(d);
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error("interrupted")), 2000);
    const { groups } = (await smokeCell()).workload;
    const fleet = engine.runFleet(
      {
        runId,
        cellId: "c1",
        network: engine.network(d),
        outDir: path.join(results, "sweep"),
        groups: groups.map((g) => ({ ...g, load: absoluteLoad(g.load) })),
        durationMs: 30_000,
        warmupMs: 0,
        labels,
      },
      { signal: abort.signal },
    );
    await expect(fleet).rejects.toThrow(/interrupted/);
    await engine.sweep(labelFilter(LABEL.run, runId));
    const swarm = await engine.nodes();
    const filters = { label: [labelFilter(LABEL.run, runId)] };
    const left = await Promise.all(
      swarm.nodes.map(
        async (n) => (await n.docker.listContainers({ all: true, filters })).length + (await n.docker.listNetworks({ filters })).length,
      ),
    );
    expect(left).toEqual(swarm.nodes.map(() => 0));
    expect(await swarm.manager.docker.listServices({ filters })).toEqual([]);
  });

  it("runs the smoke scenario with lab run's runner: nodes named in the archive, figures from every tool, nothing left", async () => {
    const file = await shortSmoke(results);
    const outcome = await runScenario(file, { engine: "swarm", swarmPrefix: PREFIX, resultsDir: results, seed: 1 });
    expect(outcome.status).toBe("complete");
    expect(outcome.dir).toMatch(/-smoke-swarm$/);
    const summary = RunSummarySchema.parse(JSON.parse(await readFile(path.join(outcome.dir, "summary.json"), "utf8")));
    expect(summary.cells.map((c) => [c.id, c.status, c.error])).toEqual(summary.cells.map((c) => [c.id, "ok", undefined]));
    // The model and the front on the server node, every client on a client node, cell by cell.
    const swarm = await engine.nodes();
    const server = swarm.servers[0]?.name;
    const clientNodes = swarm.clients.map((n) => n.name);
    for (const c of summary.cells) {
      const nodes = (role: string) => [...new Set((c.placements ?? []).filter((p) => p.role === role).map((p) => p.node))];
      expect(nodes("model"), c.id).toEqual([server]);
      expect(nodes("front"), c.id).toEqual([server]);
      expect(nodes("client").length, c.id).toBeGreaterThan(0);
      expect(
        nodes("client").every((n) => clientNodes.includes(n)),
        c.id,
      ).toBe(true);
      const placement = JSON.parse(await readFile(path.join(outcome.dir, "cells", c.id, "placement.json"), "utf8")) as { engine: string };
      expect(placement.engine).toBe("swarm");
    }
    expect(summary.environment.engine?.nodes.map((n) => n.name).sort()).toEqual(swarm.nodes.map((n) => n.name).sort());
    expect(await readFile(path.join(outcome.dir, "report.md"), "utf8")).toContain(`: model on ${server}; front on ${server}; clients`);
    // Figures from every tool of the scenario, and the model's CPU read on its node.
    for (const tool of ["k6", "autocannon", "tcp"]) {
      const rows = summary.rows.filter((r) => r.tool === tool);
      expect(rows.length, tool).toBeGreaterThan(0);
      for (const r of rows) {
        expect(r.throughput.mean, `${tool} ${r.group}`).toBeGreaterThan(0);
        expect(r.latency?.p99, `${tool} ${r.group}`).toBeGreaterThan(0);
      }
    }
    const cell = JSON.parse(await readFile(path.join(outcome.dir, "cells", summary.cells[0]!.id, "summary.json"), "utf8")) as {
      usage: { model: { cpuSeconds: number } };
    };
    expect(cell.usage.model.cpuSeconds).toBeGreaterThan(0);
    // Nothing with the run's label on any node or here.
    const filters = { label: [labelFilter(LABEL.run, outcome.runId)] };
    const left = await Promise.all(
      swarm.nodes.map(
        async (n) => (await n.docker.listContainers({ all: true, filters })).length + (await n.docker.listNetworks({ filters })).length,
      ),
    );
    expect(left).toEqual(swarm.nodes.map(() => 0));
    expect(await swarm.manager.docker.listServices({ filters })).toEqual([]);
    expect(await docker.listContainers({ all: true, filters })).toEqual([]);
  });

  it("swarm:down removes every container, volume, network and socket of the swarm, twice over", async () => {
    await swarmScript("down.sh");
    await swarmScript("down.sh");
    expect(await swarmLeftovers()).toEqual([]);
    expect(existsSync(`/run/${PREFIX}`)).toBe(false);
  });
});
