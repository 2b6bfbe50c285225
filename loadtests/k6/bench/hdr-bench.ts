/**
 * Benchmark (prints figures, asserts nothing): one k6 instance of the real image with the
 * fiblab-hdr output, open model at RATE for DURATION against a cheap target behind the front,
 * then the size of its file and the time readK6Result takes to read it. With --json, k6's
 * per-request JSON output is written too, and its size and parse time are printed beside.
 *
 *   npx tsx loadtests/k6/bench/hdr-bench.ts [--model node-single] [--path /fib/1] [--rate 10000]
 *       [--duration 60s] [--k6-cpus 0 (no limit)] [--json] [--target http://model:8080 (past the front)]
 *
 * Load goes only to the lab's own containers; everything is removed at the end.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { docker } from "../../../orchestrator/src/docker/client.js";
import { hardenedHostConfig } from "../../../orchestrator/src/docker/hardening.js";
import { LABEL } from "../../../orchestrator/src/docker/labels.js";
import { runLabel, sweepByLabel } from "../../../orchestrator/src/docker/sweep.js";
import {
  K6_DEBUG_JSON_ARGS,
  K6_DEBUG_JSON_FILE,
  K6_HDR_FILE,
  K6_OUTPUT_ARGS,
  parseK6JsonOutput,
  readK6Result,
  type K6ResultMeta,
} from "../../../orchestrator/src/fleet/k6-result.js";
import { decode } from "../../../orchestrator/src/measure/histogram.js";
import { deployModel } from "../../../test/support/deploy.js";

const { values: o } = parseArgs({
  options: {
    model: { type: "string", default: "node-single" },
    path: { type: "string", default: "/fib/1" },
    target: { type: "string", default: "http://front:8080" },
    env: { type: "string", default: "" },
    rate: { type: "string", default: "10000" },
    duration: { type: "string", default: "60s" },
    warmup: { type: "string", default: "2s" },
    "k6-cpus": { type: "string", default: "0" },
    vus: { type: "string", default: "" },
    json: { type: "boolean", default: false },
  },
});

const runId = `k6hdrbench${Date.now().toString(36)}`;
const ms = (t: number) => `${t.toFixed(0)} ms`;
const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await f();
  return [v, performance.now() - t0];
}

async function main() {
  const env = Object.fromEntries(o.env.split(",").filter(Boolean).map((kv) => kv.split("=") as [string, string]));
  const lab = await deployModel(o.model, { env: { CPUS: "1", ...env } });
  const outDir = mkdtempSync(path.join(tmpdir(), "fiblab-k6hdr-bench-"));
  chmodSync(outDir, 0o777);
  try {
    const rate = Number(o.rate);
    const vus = o.vus || String(Math.max(50, Math.ceil(rate / 20)));
    const k6Env = {
      TARGET: o.target,
      K6_NO_USAGE_REPORT: "true",
      MODEL: "open",
      RATE: o.rate,
      DURATION: o.duration,
      WARMUP: o.warmup,
      TIMEOUT: "5s",
      GROUP: "bench",
      MIX: JSON.stringify([{ path: o.path, weight: 1 }]),
      PRE_ALLOCATED_VUS: vus,
      MAX_VUS: String(Number(vus) * 2),
    };
    const cpus = Number(o["k6-cpus"]);
    const container = await docker.createContainer({
      name: `${runId}-k6`,
      Image: "fiblab/k6:latest",
      Cmd: ["run", "--no-usage-report", "--no-color", "--quiet", ...K6_OUTPUT_ARGS, ...(o.json ? K6_DEBUG_JSON_ARGS : []), "--summary-export", "/out/summary.json", "/app/fib.js"],
      Env: Object.entries(k6Env).map(([k, v]) => `${k}=${v}`),
      Labels: { [LABEL.run]: runId, [LABEL.role]: "client" },
      HostConfig: {
        ...hardenedHostConfig(),
        Binds: [`${outDir}:/out`],
        NetworkMode: `${lab.deployment.project}_lab`,
        ...(cpus > 0 ? { NanoCpus: Math.round(cpus * 1e9) } : {}),
        Memory: 2 * 1024 * 1024 * 1024,
      },
    });
    let cpuNs = 0;
    let memMax = 0;
    const t0 = Date.now();
    await container.start();
    const poll = setInterval(() => {
      void container
        .stats({ stream: false })
        .then((s: { cpu_stats?: { cpu_usage?: { total_usage?: number } }; memory_stats?: { usage?: number } }) => {
          cpuNs = Math.max(cpuNs, s.cpu_stats?.cpu_usage?.total_usage ?? 0);
          memMax = Math.max(memMax, s.memory_stats?.usage ?? 0);
        })
        .catch(() => undefined);
    }, 1000);
    let limit: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      container.wait() as Promise<{ StatusCode: number }>,
      new Promise<never>((_, reject) => (limit = setTimeout(() => reject(new Error("k6 ran past 5 minutes")), 5 * 60_000))),
    ]).finally(() => {
      clearInterval(poll);
      clearTimeout(limit);
    });
    const wallMs = Date.now() - t0;
    const log = (await container.logs({ stdout: true, stderr: true })).toString("utf8");
    await container.remove({ force: true });
    if (waited.StatusCode !== 0) console.log(`k6 exited with ${waited.StatusCode}:\n${log.slice(-2000)}`);

    const summary = JSON.parse(readFileSync(path.join(outDir, "summary.json"), "utf8")) as { metrics: Record<string, { count?: number }> };
    const measured = summary.metrics["http_reqs{phase:measure}"]?.count ?? NaN;
    const meta: K6ResultMeta = { group: "bench", clientIndex: 0, loadModel: "open", window: { startedAt: 0, endedAt: 0 }, notes: [] };
    const size = statSync(path.join(outDir, K6_HDR_FILE)).size;
    const times: number[] = [];
    let r = await readK6Result(outDir, meta);
    for (let i = 0; i < 5; i++) {
      const [rr, t] = await timed(() => readK6Result(outDir, meta));
      r = rr;
      times.push(t);
    }
    times.sort((a, b) => a - b);
    const h = decode(r.histogram);
    console.log(`model ${o.model} ${o.path} via ${o.target}, open model RATE=${o.rate} for ${o.duration} (+${o.warmup} warm-up), k6 cpus ${cpus || "unlimited"}`);
    console.log(`k6: exit ${waited.StatusCode}, wall ${ms(wallMs)}, CPU ${(cpuNs / 1e9).toFixed(1)} s, peak memory ${(memMax / 2 ** 20).toFixed(0)} MB`);
    console.log(`measured: http_reqs{phase:measure} ${measured} (${(measured / parseFloat(o.duration)).toFixed(0)}/s), ok ${r.requests.ok}, errors ${JSON.stringify(r.errors)}, dropped ${r.dropped}`);
    console.log(`histogram count ${h.totalCount} (= http_reqs: ${h.totalCount + Object.values(r.errors).reduce((a, b) => a + b, 0) === measured}), p50 ${h.getValueAtPercentile(50)} µs, p99 ${h.getValueAtPercentile(99)} µs, intervals ${r.intervals?.length ?? 0}`);
    console.log(`${K6_HDR_FILE}: ${kb(size)}; readK6Result median ${ms(times[2]!)} (min ${ms(times[0]!)}, max ${ms(times[4]!)})`);
    if (o.json) {
      const jsize = statSync(path.join(outDir, K6_DEBUG_JSON_FILE)).size;
      const [j, jt] = await timed(() => parseK6JsonOutput(path.join(outDir, K6_DEBUG_JSON_FILE), meta));
      console.log(`${K6_DEBUG_JSON_FILE}: ${kb(jsize)} gzipped; parse ${ms(jt)}; same ok count: ${j.requests.ok === r.requests.ok}`);
    }
  } finally {
    await sweepByLabel(runLabel(runId));
    await lab.down();
    rmSync(outDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
