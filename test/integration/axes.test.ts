import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker } from "../../orchestrator/src/docker/client.js";
import { LABEL, labelFilter, roleOf } from "../../orchestrator/src/docker/labels.js";
import { runLabel } from "../../orchestrator/src/docker/sweep.js";
import type { CellSummary } from "../../orchestrator/src/measure/cell-summary.js";
import { runScenario, type RunOutcome } from "../../orchestrator/src/run/runner.js";
import type { Cell } from "../../orchestrator/src/scenario/expand.js";
import { execIn, logs } from "../support/containers.js";
import { labelled } from "../support/deploy.js";
import { listenersIn, type Listeners } from "../support/listeners.js";

// The knobs that decide how work reaches a master's workers or a topology's replicas, as scenario
// axes (docs/SCENARIOS.md): one real lab run holds both sides of each, and every cell is looked
// at from inside its containers while its load runs, so each check observes the axis taking
// effect rather than reading back the setting it was given.

const SCENARIO = `
name: axes
seed: 1
models: [py-prefork, node-cluster, gunicorn-sync, node-single]
topologies:
  - { models: [py-prefork], replicas: 1, cpus: 1, workers: 3, env: { REUSEPORT: 0 } }
  - { models: [py-prefork], replicas: 1, cpus: 1, workers: 3, env: { REUSEPORT: 1 } }
  - { models: [node-cluster], replicas: 1, cpus: 1, workers: 2, env: { SCHED: rr } }
  - { models: [node-cluster], replicas: 1, cpus: 1, workers: 2, env: { SCHED: none } }
  - { models: [gunicorn-sync], replicas: 1, cpus: 1, workers: 2, env: { PRELOAD: 0 } }
  - { models: [gunicorn-sync], replicas: 1, cpus: 1, workers: 2, env: { PRELOAD: 1 } }
  - { models: [node-single], replicas: 2, cpus: 0.5 }
  - { models: [node-single], replicas: 2, cpus: 0.5, cpuset: "1", balance: least_conn }
workloads:
  - name: light
    duration: 3s
    groups:
      - { name: g, protocol: http, tool: autocannon, load: { model: closed, connections: 2, rate: 40 }, request: fib 5 }
`;

/** What one cell's containers showed while its load ran. */
interface Seen {
  cell: Cell;
  /** Per model replica. */
  replicas: Array<{ http: Listeners; log: string; cpuset: string; cpuMax: string }>;
  frontConf: string;
}

async function sh(containerId: string, script: string): Promise<string> {
  const r = await execIn(containerId, ["sh", "-c", script]);
  if (r.exitCode !== 0) throw new Error(`${script} in ${containerId}: ${r.stderr}`);
  return r.stdout;
}

// The CPUs the kernel lets the server's main process run on (its affinity, which a cpuset sets),
// and its CFS quota as "quota period", from cgroup v2's cpu.max or v1's two files.
const CPUS_ALLOWED = "sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/1/status";
const CPU_QUOTA =
  "cat /sys/fs/cgroup/cpu.max 2>/dev/null || echo $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us)";

async function look(runId: string, cell: Cell): Promise<Seen> {
  const filters = { label: [labelFilter(LABEL.run, runId), labelFilter(LABEL.cell, cell.id)] };
  const list = await docker.listContainers({ filters });
  const front = list.find((c) => roleOf(c.Labels) === "front");
  const models = list.filter((c) => roleOf(c.Labels) === "model");
  if (!front || models.length === 0) throw new Error(`cell ${cell.id}: containers not found while loading`);
  const replicas = await Promise.all(
    models.map(async (c) => ({
      http: await listenersIn(c.Id, 8000),
      log: await logs(c.Id, 500),
      cpuset: await sh(c.Id, CPUS_ALLOWED),
      cpuMax: await sh(c.Id, CPU_QUOTA),
    })),
  );
  return { cell, replicas, frontConf: await sh(front.Id, "cat /tmp/nginx/nginx.conf") };
}

describe("scenario axes, each side observed in a real run", () => {
  const seen: Seen[] = [];
  const done: CellSummary[] = [];
  let outcome: RunOutcome;
  let runId = "";
  let resultsDir = "";

  beforeAll(async () => {
    resultsDir = await mkdtemp(path.join(os.tmpdir(), "fiblab-axes-"));
    const file = path.join(resultsDir, "axes.yaml");
    await writeFile(file, SCENARIO);
    // Each look's failure is kept, not left unhandled, and reported once the run is over.
    const looks: Array<Promise<Seen | Error>> = [];
    outcome = await runScenario(file, {
      resultsDir,
      events: {
        planned: (p) => void (runId = p.runId),
        cellDone: (_cell, summary) => void done.push(summary),
        // Started as the load starts; the cell stays up for its 3 s, which the look needs well under.
        phase: (cell, phase) => {
          if (phase === "load") looks.push(look(runId, cell).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))));
        },
      },
    });
    for (const s of await Promise.all(looks)) {
      if (s instanceof Error) throw s;
      seen.push(s);
    }
  });

  afterAll(async () => {
    if (runId) expect(await labelled(runLabel(runId))).toBe(0);
    if (resultsDir) await rm(resultsDir, { recursive: true, force: true });
  });

  const cellsOf = (model: string, pick: (c: Cell) => boolean) => seen.filter((s) => s.cell.model === model && pick(s.cell));
  const one = (model: string, pick: (c: Cell) => boolean): Seen => {
    const found = cellsOf(model, pick);
    expect(found, `${model}: cells seen ${seen.map((s) => s.cell.id).join(", ")}`).toHaveLength(1);
    return found[0]!;
  };
  const knob = (name: string, value: string | number) => (c: Cell) => String(c.topology.env?.[name]) === String(value);

  it("completes every cell with load served", () => {
    expect(outcome.status).toBe("complete");
    expect(seen).toHaveLength(8);
    expect(done).toHaveLength(8);
    for (const c of done) {
      expect(c.status, c.id).toBe("ok");
      const g = c.groups[0]!;
      expect(
        g.requests.ok,
        `${c.id}: ${JSON.stringify({ requests: g.requests, errors: g.errors, notes: [...c.notes, ...g.notes] })}`,
      ).toBeGreaterThan(20);
    }
  });

  it("py-prefork REUSEPORT: one shared listener (master and workers) vs one SO_REUSEPORT socket per worker", () => {
    const shared = one("py-prefork", knob("REUSEPORT", 0)).replicas[0]!.http;
    expect(shared.inodes).toHaveLength(1);
    // The master opened it and every worker inherited it: four processes, one socket.
    expect(shared.holders).toHaveLength(4);
    for (const h of shared.holders) expect(h.inodes).toEqual(shared.inodes);

    const own = one("py-prefork", knob("REUSEPORT", 1)).replicas[0]!.http;
    expect(own.inodes).toHaveLength(3);
    // Each worker holds its own socket; the master holds none.
    expect(own.holders).toHaveLength(3);
    expect(new Set(own.holders.map((h) => h.ppid)).size).toBe(1);
    expect(new Set(own.holders.flatMap((h) => h.inodes))).toEqual(new Set(own.inodes));
    for (const h of own.holders) expect(h.inodes).toHaveLength(1);
  });

  it("node-cluster SCHED: the primary alone holds the listener (rr) vs every worker accepts on it (none)", () => {
    const rr = one("node-cluster", knob("SCHED", "rr")).replicas[0]!.http;
    expect(rr.inodes).toHaveLength(1);
    expect(rr.holders.map((h) => h.pid)).toEqual([1]);

    const none = one("node-cluster", knob("SCHED", "none")).replicas[0]!.http;
    expect(none.inodes).toHaveLength(1);
    expect(none.holders).toHaveLength(3);
    expect(none.holders.filter((h) => h.ppid === 1)).toHaveLength(2);
  });

  it("gunicorn PRELOAD: the app is loaded in each worker (0) vs once, in the arbiter, before the fork (1)", () => {
    const loadedIn = (log: string) => [...log.matchAll(/app loaded in pid (\d+)/g)].map((m) => Number(m[1]));
    const arbiter = (log: string) => Number(/\[(\d+)\] \[INFO\] Starting gunicorn/.exec(log)?.[1]);
    const workers = (log: string) => [...log.matchAll(/Booting worker with pid: (\d+)/g)].map((m) => Number(m[1]));

    const off = one("gunicorn-sync", knob("PRELOAD", 0)).replicas[0]!.log;
    expect(loadedIn(off).sort(), off).toEqual(workers(off).sort());
    expect(loadedIn(off)).not.toContain(arbiter(off));

    const on = one("gunicorn-sync", knob("PRELOAD", 1)).replicas[0]!.log;
    expect(workers(on), on).toHaveLength(2);
    expect(loadedIn(on), on).toEqual([arbiter(on)]);
  });

  it("topology balance: the front's rendered nginx config balances least_conn only where the topology says so", () => {
    const lc = one("node-single", (c) => c.topology.balance === "least_conn");
    expect(lc.cell.topology.id).toContain("leastconn");
    expect(lc.frontConf.match(/least_conn;/g)).toHaveLength(2); // the HTTP and the TCP upstream
    const rr = one("node-single", (c) => c.topology.balance === undefined);
    expect(rr.frontConf).toMatch(/upstream/);
    expect(rr.frontConf).not.toMatch(/least_conn/);
  });

  it("cpuset with cpus: each replica is pinned to the cpuset and still CFS-limited to its quota", () => {
    const pinned = one("node-single", (c) => c.topology.cpuset === "1").replicas;
    expect(pinned).toHaveLength(2);
    for (const r of pinned) {
      expect(r.cpuset).toBe("1");
      expect(r.cpuMax).toBe("50000 100000");
    }
    const free = one("node-single", (c) => c.topology.cpuset === undefined).replicas;
    const all = free[0]!.cpuset;
    expect(all).not.toBe("1");
    for (const r of free) expect(r.cpuMax).toBe("50000 100000");
  });
});
