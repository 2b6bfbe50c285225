import { describe, expect, it } from "vitest";
import { clientPlacements } from "../../src/engine/engine.js";
import { composeEngine } from "../../src/engine/compose.js";
import { engineFor } from "../../src/engine/index.js";
import { swarmUnsupported } from "../../src/engine/swarm.js";
import type { FleetOutcome } from "../../src/fleet/launch.js";
import { placementSummary, type Placement } from "../../src/measure/placement.js";
import { RunSummarySchema, summariseRun } from "../../src/measure/run-summary.js";
import { renderHtml } from "../../src/report/html.js";
import { renderMarkdown } from "../../src/report/markdown.js";
import { checkEngine } from "../../src/run/runner.js";
import { UserError } from "../../src/errors.js";
import { cellsOf, runOf, validScenario } from "../unit/fixtures.js";

const swarmParts: Placement[] = [
  { role: "model", name: "p_model.1.a", node: "sw-1" },
  { role: "model", name: "p_model.2.b", node: "sw-1" },
  { role: "front", name: "p_front.1.c", node: "sw-1" },
  { role: "client", name: "k-0", node: "sw-2", group: "main", clientIndex: 0 },
  { role: "client", name: "k-1", node: "sw-3", group: "main", clientIndex: 1 },
  { role: "client", name: "a-0", node: "sw-2", group: "probe", clientIndex: 0 },
];

describe("placements", () => {
  it("names each part's nodes once, clients per group", () => {
    expect(placementSummary(swarmParts)).toBe("model on sw-1; front on sw-1; clients main on sw-2, sw-3; probe on sw-2");
    expect(placementSummary([])).toBe("");
  });

  it("takes each client's node from the fleet's outcome", () => {
    const outcome = {
      clients: [{ group: "g", clientIndex: 1, tool: "k6", container: "c-1", node: "sw-3", outDir: "/o", exitCode: 0, startedAt: 0 }],
    } as unknown as FleetOutcome;
    expect(clientPlacements(outcome)).toEqual([{ role: "client", name: "c-1", node: "sw-3", group: "g", clientIndex: 1 }]);
  });
});

describe("engine choice", () => {
  it("refuses a scenario with scripted events or CPU pinning on a swarm, in one line", () => {
    const pinned = validScenario((raw) => {
      raw.topologies[0].cpuset = "0";
      raw.workloads[0].events = [{ at: "5s", action: "kill-container" }];
    });
    const reasons = swarmUnsupported(pinned);
    expect(reasons).toEqual([
      "workload 'fib30' has scripted events, which act through this machine's engine and compose",
      `topology '${pinned.topologies[0]?.id}' pins CPUs (cpuset)`,
    ]);
    expect(() => checkEngine(engineFor("swarm"), pinned)).toThrow(UserError);
    expect(() => checkEngine(engineFor("swarm"), pinned)).toThrow(/^the swarm engine cannot run demo: [^\n]+$/);
    expect(() => checkEngine(composeEngine, pinned)).not.toThrow();
    expect(swarmUnsupported(validScenario())).toEqual([]);
  });

  it("refuses an unknown engine by name", () => {
    expect(() => engineFor("k8s")).toThrow(/unknown engine 'k8s': one of compose, swarm/);
    expect(engineFor("compose")).toBe(composeEngine);
    expect(engineFor("swarm").name).toBe("swarm");
  });
});

describe("reports", () => {
  const scenario = validScenario();
  const withPlacements = summariseRun({
    ...runOf(scenario),
    scenario,
    environment: {
      host: "lab-host",
      engine: { name: "swarm", nodes: [{ name: "sw-1", role: "server, manager", docker: "26.1.5" }] },
    },
    cells: cellsOf(scenario).map((c) => ({ ...c, placements: swarmParts })),
  });

  it("names the nodes of every cell, and the engine with its nodes", () => {
    const md = renderMarkdown(withPlacements);
    const lines = md.split("\n").filter((l) => l.includes(": model on sw-1; front on sw-1; clients main on sw-2, sw-3"));
    expect(lines).toHaveLength(withPlacements.cells.length);
    expect(md).toContain("## Placement");
    expect(md).toContain("| Engine | swarm: sw-1 (server, manager, Docker 26.1.5) |");
    expect(renderHtml(withPlacements, { chartJs: "" })).toContain("<h2>Placement</h2>");
  });

  it("says nothing of placement when the whole run ran on one machine, and loads runs without placements", () => {
    const local = summariseRun({
      ...runOf(scenario),
      scenario,
      environment: { engine: { name: "compose", nodes: [] } },
      cells: cellsOf(scenario).map((c) => ({ ...c, placements: swarmParts.map((p) => ({ ...p, node: "lab-host" })) })),
    });
    expect(renderMarkdown(local)).not.toContain("## Placement");
    expect(renderMarkdown(local)).toContain("| Engine | compose |");
    const old = JSON.parse(JSON.stringify(runOf(scenario))) as Record<string, unknown>;
    const parsed = RunSummarySchema.parse(old);
    expect(parsed.cells.every((c) => c.placements === undefined)).toBe(true);
    expect(parsed.environment.engine).toBeUndefined();
    expect(renderMarkdown(parsed)).not.toContain("## Placement");
  });
});
