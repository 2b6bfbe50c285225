import { execa } from "execa";
import { mkdtemp, readFile, readdir, writeFile, access } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RunSummarySchema } from "../../orchestrator/src/measure/run-summary.js";
import { CellSummarySchema } from "../../orchestrator/src/measure/cell-summary.js";
import { RunIndexSchema } from "../../orchestrator/src/archive/index.js";
import { repoRoot } from "../../orchestrator/src/models/catalog.js";
import { docker } from "../../orchestrator/src/docker/client.js";
import { runLabel } from "../../orchestrator/src/docker/sweep.js";
import { labelled } from "../support/deploy.js";

// node itself, not npx: a signal sent to the child must reach the CLI, as Ctrl-C reaches it in a terminal.
const cli = ["--import", "tsx", path.join(repoRoot, "orchestrator/src/cli.ts")];

/** Containers and networks of one run, or of any lab run. */
const labContainers = (runId?: string) => labelled(runLabel(runId));

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

describe("lab run", () => {
  it("runs the smoke scenario to a complete archived run with every tool's figures", async () => {
    const results = await mkdtemp(path.join(os.tmpdir(), "fiblab-results-"));
    const r = await execa("node", [...cli, "run", "loadtests/scenarios/smoke.yaml"], {
      cwd: repoRoot,
      env: { FIBLAB_RESULTS: results },
      reject: false,
      all: true,
    });
    expect(r.exitCode, r.all).toBe(0);

    const index = RunIndexSchema.parse(JSON.parse(await readFile(path.join(results, "index.json"), "utf8")));
    expect(index.runs).toHaveLength(1);
    const entry = index.runs[0]!;
    expect(entry.status).toBe("complete");
    const dir = path.join(results, entry.dir);
    for (const f of ["scenario.yaml", "scenario.resolved.json", "environment.json", "summary.json", "report.md", "report.html"]) {
      expect(await exists(path.join(dir, f)), f).toBe(true);
    }
    const summary = RunSummarySchema.parse(JSON.parse(await readFile(path.join(dir, "summary.json"), "utf8")));
    expect(summary.cells.every((c) => c.status === "ok")).toBe(true);
    const tools = new Set(summary.rows.map((row) => row.tool));
    expect([...tools].sort()).toEqual(["autocannon", "k6", "tcp"]);
    for (const row of summary.rows) {
      expect(row.throughput.mean, row.key).toBeGreaterThan(0);
      expect(row.latency?.p99, row.key).toBeGreaterThan(0);
    }
    // Raw outputs of every client and the model's container stats are archived per cell.
    for (const cell of summary.cells) {
      const clients = await readdir(path.join(dir, "cells", cell.id, "clients"));
      expect(clients.length).toBeGreaterThan(0);
      const cellSummary = CellSummarySchema.parse(JSON.parse(await readFile(path.join(dir, "cells", cell.id, "summary.json"), "utf8")));
      expect(cellSummary.containers.some((c) => c.role === "model" && c.cpuSeconds > 0)).toBe(true);
      expect(cellSummary.containers.some((c) => c.role === "client")).toBe(true);
    }
    const html = await readFile(path.join(dir, "report.html"), "utf8");
    expect(html).not.toMatch(/<script[^>]+src=/); // self-contained
    expect(await labContainers(entry.id)).toBe(0);
  });

  it("rejects an invalid scenario before anything starts, naming the field", async () => {
    const results = await mkdtemp(path.join(os.tmpdir(), "fiblab-results-"));
    const bad = path.join(results, "bad.yaml");
    await writeFile(
      bad,
      (await readFile(path.join(repoRoot, "loadtests/scenarios/smoke.yaml"), "utf8")).replace("tool: autocannon", "tool: tcp"),
    );
    const r = await execa("node", [...cli, "run", bad], { cwd: repoRoot, env: { FIBLAB_RESULTS: results }, reject: false, all: true });
    expect(r.exitCode).toBe(1);
    expect(r.all).toMatch(/workloads\[1\]\.groups\[0\]\.tool: /);
    expect((await readdir(results)).filter((f) => f !== "bad.yaml")).toEqual([]);
  });

  it("rejects a knob the model does not have before anything starts, naming the knob, the model and its knobs", async () => {
    const results = await mkdtemp(path.join(os.tmpdir(), "fiblab-results-"));
    const bad = path.join(results, "knob.yaml");
    const smoke = await readFile(path.join(repoRoot, "loadtests/scenarios/smoke.yaml"), "utf8");
    await writeFile(bad, smoke.replace("- { replicas: 1, cpus: 1 }", "- { replicas: 1, cpus: 1, workers: 2, env: { WORKER: 3 } }"));
    const r = await execa("node", [...cli, "run", bad], { cwd: repoRoot, env: { FIBLAB_RESULTS: results }, reject: false, all: true });
    expect(r.exitCode).toBe(1);
    expect(r.all).toContain(bad);
    expect(r.all).toMatch(/topologies\[0\]\.workers: model py-threads has no WORKERS knob \(its knobs: none\)/);
    expect(r.all).toMatch(/topologies\[0\]\.env\.WORKER: model py-threads has no WORKER knob/);
    expect(r.all).not.toMatch(/\n\s+at /); // no stack trace
    expect((await readdir(results)).filter((f) => f !== "knob.yaml")).toEqual([]);
    expect(await labContainers()).toBe(0);
  });

  it("on SIGINT mid-cell removes every container and network and keeps the run as incomplete", async () => {
    const results = await mkdtemp(path.join(os.tmpdir(), "fiblab-results-"));
    const scenario = path.join(results, "long.yaml");
    await writeFile(
      scenario,
      [
        "name: interrupted",
        "models: [py-threads]",
        "topologies: [{ replicas: 2, cpus: 0.5 }]",
        "workloads:",
        "  - name: long",
        "    duration: 30s",
        "    groups:",
        "      - { name: g, protocol: tcp, tool: tcp, load: { model: open, rate: 20 }, request: fib 10 }",
        "      - { name: h, protocol: http, tool: k6, load: { model: open, rate: 20 }, request: fib 10 }",
      ].join("\n"),
    );
    const child = execa("node", [...cli, "run", scenario], {
      cwd: repoRoot,
      env: { FIBLAB_RESULTS: results },
      reject: false,
      all: true,
    });
    let out = "";
    // Wait until the load phase of the cell has begun, then interrupt like Ctrl-C would.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`load never started:\n${out}`)), 120_000);
      child.all!.on("data", (d: Buffer) => {
        out += d.toString();
        if (/: load/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await new Promise((r) => setTimeout(r, 3000));
    const runId = /run (\S+): 1 cells/.exec(out)?.[1];
    expect(runId, out).toBeDefined();
    expect(await labContainers(runId)).toBeGreaterThan(0);
    child.kill("SIGINT");
    const r = await child;
    expect(r.exitCode, r.all).toBe(130);

    expect(await labContainers(runId)).toBe(0);
    const compose = await docker.listContainers({ all: true, filters: { label: ["com.docker.compose.project"] } });
    const mine = runId!.toLowerCase().replace(/[^a-z0-9]+/g, "");
    expect(compose.filter((c) => (c.Labels["com.docker.compose.project"] ?? "").includes(mine))).toEqual([]);
    const entries = await readdir(results);
    const runDirs = entries.filter((e) => e.includes("interrupted"));
    expect(runDirs).toEqual([`${runId}.INCOMPLETE`]);
    const kept = path.join(results, runDirs[0]!);
    expect(await readFile(path.join(kept, "INCOMPLETE.txt"), "utf8")).toMatch(/interrupted/);
    expect(await exists(path.join(kept, "summary.json"))).toBe(false);
    expect(await exists(path.join(kept, "report.md"))).toBe(false);
    const index = RunIndexSchema.parse(JSON.parse(await readFile(path.join(results, "index.json"), "utf8")));
    expect(index.runs.map((x) => x.status)).toEqual(["incomplete"]);
  });
});
