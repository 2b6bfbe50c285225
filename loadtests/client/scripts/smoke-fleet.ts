/**
 * Drives every client kind through the fleet launcher against a running lab, briefly and gently,
 * and prints what each ClientResult says. For a person checking the clients by hand:
 *
 *   COMPOSE_PROJECT_NAME=fl-c FRONT_HTTP_PORT=38080 FRONT_TCP_PORT=38025 docker compose --profile py-threads up -d --wait
 *   npx tsx loadtests/client/scripts/smoke-fleet.ts fl-c_lab [only-this-case]
 *   COMPOSE_PROJECT_NAME=fl-c docker compose --profile py-threads down
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import hdr from "hdr-histogram-js";
import { launchFleet } from "../../../orchestrator/src/fleet/launch.js";
import { runLabel, sweepByLabel } from "../../../orchestrator/src/docker/sweep.js";
import type { FleetGroup } from "../../../orchestrator/src/fleet/plan.js";
import { briefFleet, fib } from "../../../test/support/fleet.js";

const network = process.argv[2] ?? "fl-c_lab";
const only = process.argv[3];

/** Every case's clients get half a CPU each. */
const group = (
  name: string,
  tool: FleetGroup["tool"],
  load: FleetGroup["load"],
  request: FleetGroup["request"],
  count = 1,
): FleetGroup => ({
  name,
  tool,
  load,
  request,
  clients: { count, cpus: 0.5 },
});

const cases: Record<string, FleetGroup[]> = {
  "k6-open": [group("k6o", "k6", { model: "open", rate: 100 }, [fib(15, 3), fib(20, 1)], 2)],
  "k6-closed": [group("k6c", "k6", { model: "closed", connections: 1, pipelining: 1 }, [fib(27)])],
  autocannon: [group("ac", "autocannon", { model: "closed", connections: 4, pipelining: 1, rate: 150 }, [fib(18)])],
  "tcp-open": [group("tcpo", "tcp", { model: "open", rate: 150 }, [fib(15, 3), fib(1, 1)], 2)],
  "tcp-closed": [group("tcpc", "tcp", { model: "closed", connections: 1, pipelining: 2 }, [fib(27)])],
  mixed: [group("slow", "k6", { model: "open", rate: 20 }, [fib(24)]), group("probe", "tcp", { model: "open", rate: 50 }, [fib(1)])],
};

const runId = `smoke${Date.now().toString(36)}`;
process.on("SIGINT", () => void sweepByLabel(runLabel(runId)).then(() => process.exit(130)));
const outRoot = mkdtempSync(path.join(tmpdir(), "fiblab-smoke-"));
for (const [name, groups] of Object.entries(cases)) {
  if (only && name !== only) continue;
  const t0 = Date.now();
  const rates: string[] = [];
  const fleet = await launchFleet(briefFleet({ runId, network, outRoot }, name, groups), {
    onProgress: (p) => rates.push(`${p.group}${p.clientIndex}:${p.phase ?? "?"}:${p.rps}`),
    onLog: (src, line) => (src === "fleet" ? console.log(`  [${src}] ${line}`) : undefined),
    onPhase: (phase, at) => rates.push(`<${phase}@${at - t0}>`),
  });
  console.log(`== ${name}: ok=${fleet.ok} in ${Date.now() - t0} ms; progress: ${rates.join(" ")}`);
  for (const c of fleet.clients) {
    if (!c.result) {
      console.log(`  ${c.group}-${c.clientIndex} (${c.tool}) exit ${c.exitCode}: ${c.error}`);
      continue;
    }
    const r = c.result;
    const h = hdr.decodeFromCompressedBase64(r.histogram);
    const ms = (p: number) => (h.getValueAtPercentile(p) / 1000).toFixed(2);
    const secs = (r.endedAt - r.startedAt) / 1000;
    console.log(
      `  ${c.group}-${c.clientIndex} ${r.tool}/${r.loadModel} window ${secs}s sent ${r.requests.sent} completed ${r.requests.completed} ok ${r.requests.ok} ` +
        `(${(r.requests.ok / secs).toFixed(1)}/s) dropped ${r.dropped} errors ${JSON.stringify(r.errors)} ` +
        `p50 ${ms(50)} p99 ${ms(99)} max ${(h.maxValue / 1000).toFixed(2)} ms; hist ${h.totalCount}; workers ${Object.keys(r.workers).length} ` +
        `(${Object.values(r.workers).reduce((a, b) => a + b, 0)})${c.error ? `; ERROR ${c.error}` : ""}`,
    );
    if (r.sendLag) {
      const lag = hdr.decodeFromCompressedBase64(r.sendLag);
      console.log(
        `     send lag (µs behind the intended time, inside every latency above): p50 ${lag.getValueAtPercentile(50)} p99 ${lag.getValueAtPercentile(99)} max ${lag.maxValue}`,
      );
    }
    if (r.intervals) console.log(`     per second ok: ${r.intervals.map((i) => i.ok).join(" ")}`);
    for (const n of r.notes) console.log(`     note: ${n}`);
  }
}
console.log(`outputs in ${outRoot}; leftover containers removed: ${(await sweepByLabel(runLabel(runId))).containers}`);
