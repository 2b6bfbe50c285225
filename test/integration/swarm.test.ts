import { execa } from "execa";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker } from "../../orchestrator/src/docker/client.js";
import { cellLabels, LABEL, labelFilter } from "../../orchestrator/src/docker/labels.js";
import { SwarmEngine } from "../../orchestrator/src/engine/swarm.js";
import { summariseCell } from "../../orchestrator/src/measure/cell-summary.js";
import { loadCatalog } from "../../orchestrator/src/models/catalog.js";
import { verifyModel } from "../../orchestrator/src/run/verify.js";
import { expandScenario } from "../../orchestrator/src/scenario/expand.js";
import { loadScenarioFile, scenarioContext } from "../../orchestrator/src/scenario/load.js";
import { absoluteLoad } from "../../orchestrator/src/measure/limits.js";

/**
 * A real three-node swarm (Docker in Docker, scripts/swarm/) of its own name, so a developer's
 * swarm is left alone: the smoke scenario's model on the server node, its first workload's k6
 * clients on the client nodes, figures back in the archive layout, then swarm:down leaves nothing.
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

/** The smoke scenario's first cell: its first model, topology and workload. */
async function smokeCell() {
  const { scenario } = await loadScenarioFile(
    path.resolve(import.meta.dirname, "../../loadtests/scenarios/smoke.yaml"),
    scenarioContext(await loadCatalog()),
  );
  const cell = expandScenario(scenario, { seed: 1 }).cells.find((c) => c.workload.name === scenario.workloads[0]?.name);
  if (!cell) throw new Error("smoke has no first workload");
  return cell;
}

describe("swarm engine", () => {
  const engine = new SwarmEngine(PREFIX);
  let results: string;

  beforeAll(async () => {
    results = await mkdtemp(path.join(os.tmpdir(), "fiblab-swarm-"));
    await swarmScript("up.sh", ["fiblab/py-threads", "fiblab/front", "fiblab/k6"]);
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

  it("swarm:down removes every container, volume, network and socket of the swarm, twice over", async () => {
    await swarmScript("down.sh");
    await swarmScript("down.sh");
    expect(await swarmLeftovers()).toEqual([]);
    expect(existsSync(`/run/${PREFIX}`)).toBe(false);
  });
});
