import { execa } from "execa";
import { mkdtemp, readFile, readdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { docker } from "../../orchestrator/src/docker/client.js";
import { repoRoot } from "../../orchestrator/src/models/catalog.js";
import { RunSummarySchema, type RunSummary } from "../../orchestrator/src/measure/run-summary.js";

// The lab's guards on its own figures, with real containers: a load client at its CPU limit is
// flagged client-bound (and --strict refuses the run), and CPU burnt beside a run by something
// else flags the cell machine busy. Each run is a few seconds of load.

const cli = ["--import", "tsx", path.join(repoRoot, "orchestrator/src/cli.ts")];
const BURNER_LABEL = "fiblab.test=burner";

async function runLab(scenarioLines: string[], args: string[] = []): Promise<{ exitCode: number; all: string; summary?: RunSummary }> {
  const results = await mkdtemp(path.join(os.tmpdir(), "fiblab-guards-"));
  const file = path.join(results, "scenario.yaml");
  await writeFile(file, scenarioLines.join("\n"));
  const r = await execa("node", [...cli, "run", file, ...args], {
    cwd: repoRoot,
    env: { FIBLAB_RESULTS: results },
    reject: false,
    all: true,
  });
  const dir = (await readdir(results)).find((d) => /^\d{8}T\d{6}Z-/.test(d) && !d.endsWith(".INCOMPLETE"));
  const summary = dir ? RunSummarySchema.parse(JSON.parse(await readFile(path.join(results, dir, "summary.json"), "utf8"))) : undefined;
  return { exitCode: r.exitCode ?? -1, all: r.all ?? "", ...(summary ? { summary } : {}) };
}

describe("guards on the lab's own figures", () => {
  afterAll(async () => {
    const burners = await docker.listContainers({ all: true, filters: { label: [BURNER_LABEL] } });
    await Promise.all(burners.map((c) => docker.getContainer(c.Id).remove({ force: true })));
  });

  it("flags a 0.1-cpu client closed-looping on a fast model as client-bound, and --strict exits 3", async () => {
    const r = await runLab(
      [
        "name: guard-client",
        "models: [node-single]",
        "topologies: [{ replicas: 1, cpus: 1 }]",
        "workloads:",
        "  - name: tiny",
        "    duration: 4s",
        "    warmup: 1s",
        "    groups:",
        "      - { name: g, protocol: tcp, tool: tcp, load: { model: closed, connections: 4 }, request: fib 1, clients: { count: 1, cpus: 0.1 } }",
      ],
      ["--strict"],
    );
    expect(r.summary, r.all).toBeDefined();
    const row = r.summary!.rows[0]!;
    expect(row.clientBoundRepeats, r.all).toBe(1);
    expect(row.clients.maxCpuShare.max).toBeGreaterThan(0.85);
    expect(r.summary!.problems.clientBound).toHaveLength(1);
    expect(r.all).toMatch(/client-bound/);
    expect(r.exitCode, r.all).toBe(3);
  });

  it("flags a cell machine busy when a CPU burner runs beside it", async () => {
    // The burner: a shell spinning in the lab's base image, 0.6 cpu, not part of the run.
    const burner = await docker.createContainer({
      Image: "debian:trixie-slim",
      Cmd: ["sh", "-c", "end=$(( $(date +%s) + 60 )); while [ $(date +%s) -lt $end ]; do :; done"],
      Labels: { "fiblab.test": "burner" },
      HostConfig: { NanoCpus: 600_000_000, AutoRemove: true, NetworkMode: "none" },
    });
    await burner.start();
    try {
      const r = await runLab([
        "name: guard-busy",
        "models: [node-single]",
        "topologies: [{ replicas: 1, cpus: 0.5 }]",
        "workloads:",
        "  - name: light",
        "    duration: 4s",
        "    groups:",
        "      - { name: g, protocol: http, tool: autocannon, load: { model: closed, connections: 1, rate: 20 }, request: fib 1 }",
      ]);
      expect(r.exitCode, r.all).toBe(0);
      const cell = r.summary!.cells[0]!;
      expect(cell.machineBusy, r.all).toBe(true);
      expect(cell.elsewhereCores ?? 0).toBeGreaterThan(0.4);
      expect(r.summary!.problems.machineBusy).toHaveLength(1);
      expect(r.all).toMatch(/machine busy/);
    } finally {
      await burner.remove({ force: true }).catch(() => undefined);
    }
  });
});
