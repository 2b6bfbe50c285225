import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { docker } from "../../orchestrator/src/docker/client.js";
import { hardenedHostConfig } from "../../orchestrator/src/docker/hardening.js";
import { LABEL } from "../../orchestrator/src/docker/labels.js";
import {
  K6_DEBUG_JSON_ARGS,
  K6_DEBUG_JSON_FILE,
  K6_HDR_FILE,
  K6_OUTPUT_ARGS,
  K6HdrFileSchema,
  parseK6JsonOutput,
  readK6Result,
  type K6ResultMeta,
} from "../../orchestrator/src/fleet/k6-result.js";
import { decode } from "../../orchestrator/src/measure/histogram.js";
import { useClientLab } from "../support/suite.js";

// The real k6 image (bash scripts/build-clients.sh) with fiblab's output extension against
// node-single behind its front: a few seconds of gentle load (≤ 200 req/s), k6 run directly (not
// through the fleet driver). The histograms must account for exactly the requests k6 itself
// counted in the measured window, http_reqs{phase:measure} in its --summary-export.
const runId = `itk6hdr${Date.now().toString(36)}`;

interface K6Run {
  outDir: string;
  exitCode: number;
  log: string;
}

describe("k6 with the fiblab-hdr output", () => {
  const t = useClientLab("node-single", runId, "fiblab-k6hdr-");

  /** One k6 container, run to its end (bounded), then removed. */
  async function runK6(name: string, env: Record<string, string>, extraArgs: string[] = []): Promise<K6Run> {
    const outDir = path.join(t.outRoot, name);
    mkdirSync(outDir);
    chmodSync(outDir, 0o777); // k6 runs as uid 10001
    const container = await docker.createContainer({
      name: `${runId}-${name}`,
      Image: "fiblab/k6:latest",
      Cmd: [
        "run",
        "--no-usage-report",
        "--no-color",
        "--quiet",
        ...K6_OUTPUT_ARGS,
        ...extraArgs,
        "--summary-export",
        "/out/summary.json",
        "/app/fib.js",
      ],
      Env: Object.entries({ TARGET: "http://front:8080", K6_NO_USAGE_REPORT: "true", ...env }).map(([k, v]) => `${k}=${v}`),
      Labels: { [LABEL.run]: runId, [LABEL.role]: "client" },
      HostConfig: {
        ...hardenedHostConfig(),
        Binds: [`${outDir}:/out`],
        NetworkMode: t.network,
        NanoCpus: 1e9,
        Memory: 512 * 1024 * 1024,
      },
    });
    try {
      await container.start();
      let limit: NodeJS.Timeout | undefined;
      const waited = await Promise.race([
        container.wait() as Promise<{ StatusCode: number }>,
        new Promise<never>((_, reject) => (limit = setTimeout(() => reject(new Error(`k6 ${name} still running after 60 s`)), 60_000))),
      ]).finally(() => clearTimeout(limit));
      const log = (await container.logs({ stdout: true, stderr: true })).toString("utf8");
      return { outDir, exitCode: waited.StatusCode, log };
    } finally {
      await container.remove({ force: true }).catch(() => undefined);
    }
  }

  const meta = (group: string, loadModel: "open" | "closed"): K6ResultMeta => ({
    group,
    clientIndex: 0,
    loadModel,
    window: { startedAt: 0, endedAt: 0 },
    notes: [],
  });

  /** An open-model run: `rate` req/s for `duration` after 1 s of warm-up, over the `mix` of paths. */
  const openEnv = (group: string, rate: number, duration: string, mix: object[]) => ({
    MODEL: "open",
    RATE: String(rate),
    DURATION: duration,
    WARMUP: "1s",
    TIMEOUT: "5s",
    GROUP: group,
    MIX: JSON.stringify(mix),
  });

  function k6Count(outDir: string, metric: string): number {
    const summary = JSON.parse(readFileSync(path.join(outDir, "summary.json"), "utf8")) as { metrics: Record<string, { count?: number }> };
    const m = summary.metrics[metric];
    if (!m || typeof m.count !== "number") throw new Error(`no ${metric} in k6's summary: ${Object.keys(summary.metrics).join(", ")}`);
    return m.count;
  }

  it("open model: the histograms' count is k6's http_reqs of the measured window, 4xx included; the JSON debug output agrees", async () => {
    const run = await runK6(
      "open",
      openEnv("hdr", 150, "3s", [
        { path: "/fib/15", weight: 4 },
        { path: "/nope", weight: 1 },
      ]),
      K6_DEBUG_JSON_ARGS,
    );
    expect(run.exitCode, run.log).toBe(0);
    const file = K6HdrFileSchema.parse(JSON.parse(readFileSync(path.join(run.outDir, K6_HDR_FILE), "utf8")));
    const measure = file.groups.hdr!.measure!;
    const warmup = file.groups.hdr!.warmup!;
    const inHistograms = Object.entries(measure.histograms).reduce((a, [, h]) => a + decode(h).totalCount, 0);
    const measured = k6Count(run.outDir, "http_reqs{phase:measure}");
    expect(measured).toBeGreaterThanOrEqual(440); // 150/s over 3 s
    expect(inHistograms).toBe(measured);
    expect(measure.httpReqs).toBe(measured);
    expect(warmup.httpReqs + measure.httpReqs).toBe(k6Count(run.outDir, "http_reqs"));

    const r = await readK6Result(run.outDir, meta("hdr", "open"));
    expect(r.requests.sent).toBe(measured);
    expect(r.requests.completed).toBe(measured);
    expect(r.errors.http_4xx).toBeGreaterThan(40);
    expect(r.requests.ok + r.errors.http_4xx!).toBe(measured);
    expect(Object.keys(r.errors)).toEqual(["http_4xx"]);
    expect(decode(r.histogram).totalCount).toBe(r.requests.ok);
    expect(decode(r.histogram).getValueAtPercentile(50)).toBeLessThan(100_000);
    expect(Object.values(r.workers).reduce((a, b) => a + b, 0)).toBe(measured);
    const iv = r.intervals ?? [];
    expect(iv.length).toBeGreaterThanOrEqual(3);
    expect(iv.length).toBeLessThanOrEqual(5);
    expect(iv.reduce((a, i) => a + i.ok, 0)).toBe(r.requests.ok);
    expect(iv.reduce((a, i) => a + (i.errors.http_4xx ?? 0), 0)).toBe(r.errors.http_4xx);

    // the per-request debug trail, read the old way, gives the same figures and the same buckets
    const j = await parseK6JsonOutput(path.join(run.outDir, K6_DEBUG_JSON_FILE), meta("hdr", "open"));
    expect(j.requests).toEqual(r.requests);
    expect(j.errors).toEqual(r.errors);
    expect(j.workers).toEqual(r.workers);
    expect(j.dropped).toBe(r.dropped);
    for (const q of [0, 50, 90, 99, 100])
      expect(decode(j.histogram).getValueAtPercentile(q)).toBe(decode(r.histogram).getValueAtPercentile(q));

    // small: a few KB, against ~14 JSON lines per request
    expect(statSync(path.join(run.outDir, K6_HDR_FILE)).size).toBeLessThan(64 * 1024);
  });

  it("wrong bodies: moved from ok to wrong_answer, in the window's histogram and in its seconds, as k6's own trail says", async () => {
    // fib(16) is 987: an entry that expects something else makes half the replies wrong answers
    const run = await runK6(
      "wrong",
      openEnv("wrong", 100, "2s", [
        { path: "/fib/15", weight: 1 },
        { path: "/fib/16", weight: 1, expect: "986\n" },
      ]),
      K6_DEBUG_JSON_ARGS,
    );
    expect(run.exitCode, run.log).toBe(0);
    const measured = k6Count(run.outDir, "http_reqs{phase:measure}");
    const r = await readK6Result(run.outDir, meta("wrong", "open"));
    expect(r.requests.sent).toBe(measured);
    expect(Object.keys(r.errors)).toEqual(["wrong_answer"]);
    expect(r.errors.wrong_answer).toBeGreaterThan(measured * 0.3);
    expect(r.requests.ok).toBeGreaterThan(measured * 0.3);
    expect(r.requests.ok + r.errors.wrong_answer!).toBe(measured);
    expect(decode(r.histogram).totalCount).toBe(r.requests.ok);
    expect(r.notes.join(" ")).not.toMatch(/could not be matched/);
    const iv = r.intervals ?? [];
    expect(iv.reduce((a, i) => a + i.ok, 0)).toBe(r.requests.ok);
    expect(iv.reduce((a, i) => a + (i.errors.wrong_answer ?? 0), 0)).toBe(r.errors.wrong_answer);
    const file = K6HdrFileSchema.parse(JSON.parse(readFileSync(path.join(run.outDir, K6_HDR_FILE), "utf8")));
    expect(decode(file.groups.wrong!.measure!.histograms.wrong_answer!).totalCount).toBe(r.errors.wrong_answer);
    const j = await parseK6JsonOutput(path.join(run.outDir, K6_DEBUG_JSON_FILE), meta("wrong", "open"));
    expect(j.requests).toEqual(r.requests);
    expect(j.errors).toEqual(r.errors);
    for (const q of [0, 50, 90, 100]) expect(decode(j.histogram).getValueAtPercentile(q)).toBe(decode(r.histogram).getValueAtPercentile(q));
  });

  it("closed model, no warm-up, by default no per-request output", async () => {
    const run = await runK6("closed", {
      MODEL: "closed",
      VUS: "2",
      DURATION: "2s",
      WARMUP: "0s",
      TIMEOUT: "5s",
      GROUP: "vus",
      MIX: JSON.stringify([{ path: "/fib/20", weight: 1 }]),
    });
    expect(run.exitCode, run.log).toBe(0);
    expect(readdirSync(run.outDir).sort()).toEqual([K6_HDR_FILE, "summary.json"]);
    const r = await readK6Result(run.outDir, meta("vus", "closed"));
    const measured = k6Count(run.outDir, "http_reqs{phase:measure}");
    expect(measured).toBe(k6Count(run.outDir, "http_reqs"));
    expect(r.requests.sent).toBe(measured);
    expect(r.requests.ok).toBe(measured);
    expect(r.errors).toEqual({});
    expect(decode(r.histogram).totalCount).toBe(measured);
  });
});
