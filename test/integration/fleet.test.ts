import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { ClientResult } from "../../loadtests/contract/result.js";
import { decode } from "../../orchestrator/src/measure/histogram.js";
import { launchFleet, type ClientProgress, type FleetPhase } from "../../orchestrator/src/fleet/launch.js";
import { docker } from "../../orchestrator/src/docker/client.js";
import type { FleetGroup, FleetSpec } from "../../orchestrator/src/fleet/plan.js";
import { briefFleet, fib } from "../support/fleet.js";
import { useClientLab } from "../support/suite.js";

// The load clients, run as a fleet of containers by the launcher against py-threads behind its
// front: every tool and load model, briefly and gently (≤ 5 s, ≤ 200 req/s).
const runId = `itfleet${Date.now().toString(36)}`;

describe("load-client fleet against py-threads", () => {
  const t = useClientLab("py-threads", runId, "fiblab-fleet-");
  const spec = (name: string, groups: FleetGroup[], more: Partial<FleetSpec> = {}): FleetSpec =>
    briefFleet({ runId, network: t.network, outRoot: t.outRoot }, name, groups, more);

  it("runs open-model k6 (two instances, one split rate) and the TCP client side by side", async () => {
    const progress: ClientProgress[] = [];
    const phases: FleetPhase[] = [];
    const fleet = await launchFleet(
      spec("open", [
        {
          name: "http",
          tool: "k6",
          load: { model: "open", rate: 80 },
          request: [fib(15, 3), fib(20, 1)],
          clients: { count: 2, cpus: 0.5 },
        },
        { name: "tcp", tool: "tcp", load: { model: "open", rate: 60 }, request: [fib(15, 3), fib(1, 1)], clients: { count: 2, cpus: 0.5 } },
      ]),
      { onProgress: (p) => progress.push(p), onPhase: (p) => phases.push(p) },
    );
    expect(fleet.clients.map((c) => c.error ?? "")).toEqual(["", "", "", ""]);
    expect(fleet.ok).toBe(true);
    expect(phases).toEqual(["start", "warmup", "measure", "drain", "done"]);
    const k6 = fleet.clients.filter((c) => c.tool === "k6").map((c) => c.result!);
    const tcp = fleet.clients.filter((c) => c.tool === "tcp").map((c) => c.result!);
    // 80 req/s over 3 s, split by k6's execution segments; 60 req/s split by the launcher
    const k6Sent = k6.reduce((a, r) => a + r.requests.sent, 0);
    expect(k6Sent).toBeGreaterThanOrEqual(230);
    expect(k6Sent).toBeLessThanOrEqual(250);
    for (const r of k6) {
      expect(r.requests.ok).toBe(r.requests.sent);
      expect(r.dropped).toBe(0);
      expect(Object.keys(r.workers).length).toBeGreaterThan(0);
      expect(decode(r.histogram).totalCount).toBe(r.requests.ok);
      expect(r.endedAt - r.startedAt).toBe(3000);
    }
    for (const r of tcp) {
      expect(r.requests.sent).toBe(90);
      expect(r.requests.ok).toBe(90);
      expect(r.errors).toEqual({});
      expect(decode(r.histogram).getValueAtPercentile(50)).toBeLessThan(100_000);
    }
    // measurement windows of all clients line up within a few ms
    const starts = [...k6, ...tcp].map((r) => r.startedAt);
    expect(Math.max(...starts) - Math.min(...starts)).toBeLessThan(300);
    expect(progress.some((p) => p.tool === "k6" && p.rps > 0)).toBe(true);
    expect(progress.some((p) => p.tool === "tcp" && p.phase === "measure" && p.rps > 0)).toBe(true);
    // raw outputs stay, containers do not
    expect(readdirSync(fleet.clients[0]!.outDir).sort()).toEqual(["client.log", "k6-hdr.json", "result.json", "summary.json"]);
    expect(await docker.listContainers({ all: true, filters: { label: [`fiblab.run=${runId}`] } })).toHaveLength(0);
  });

  it("runs the closed models: k6 VUs, autocannon with a rate cap, TCP with pipelining", async () => {
    const fleet = await launchFleet(
      spec("closed", [
        {
          name: "vus",
          tool: "k6",
          load: { model: "closed", connections: 1, pipelining: 1 },
          request: [fib(25)],
          clients: { count: 1, cpus: 0.5 },
        },
        {
          name: "ac",
          tool: "autocannon",
          load: { model: "closed", connections: 2, pipelining: 1, rate: 40 },
          request: [fib(20)],
          clients: { count: 1, cpus: 0.5 },
        },
        {
          name: "tcp",
          tool: "tcp",
          load: { model: "closed", connections: 1, pipelining: 2 },
          request: [fib(25)],
          clients: { count: 1, cpus: 0.5 },
        },
      ]),
    );
    expect(fleet.clients.map((c) => c.error ?? "")).toEqual(["", "", ""]);
    const results = fleet.clients.map((c) => c.result).filter((r) => r !== undefined);
    expect(results).toHaveLength(3);
    const [vus, ac, tcp] = results as [ClientResult, ClientResult, ClientResult];
    expect(vus.tool).toBe("k6");
    expect(vus.loadModel).toBe("closed");
    expect(vus.requests.ok).toBeGreaterThan(10);
    expect(ac.tool).toBe("autocannon");
    expect(ac.requests.ok).toBeGreaterThanOrEqual(90);
    expect(ac.requests.ok).toBeLessThanOrEqual(130);
    expect(ac.notes.join(" ")).toMatch(/NOT corrected/);
    expect(Object.keys(ac.workers).length).toBeGreaterThan(0);
    expect(tcp.requests.ok).toBeGreaterThan(10);
    expect(tcp.requests.sent - tcp.requests.ok).toBeLessThanOrEqual(0);
    for (const r of [vus, ac, tcp]) expect(decode(r.histogram).totalCount).toBe(r.requests.ok);
  });

  it("kills and removes the fleet when aborted", async () => {
    const ctl = new AbortController();
    const run = launchFleet(
      spec(
        "abort",
        [{ name: "long", tool: "tcp", load: { model: "open", rate: 5 }, request: [fib(5)], clients: { count: 1, cpus: 0.25 } }],
        {
          durationMs: 60_000,
          startDelayMs: 1000,
        },
      ),
      { signal: ctl.signal, onPhase: (p) => p === "measure" && ctl.abort(new Error("stop")) },
    );
    await expect(run).rejects.toThrow(/stop/);
    expect(await docker.listContainers({ all: true, filters: { label: [`fiblab.run=${runId}`] } })).toHaveLength(0);
  });
});
