/**
 * npm run bench:clients — how much load each client makes per CPU-second it burns.
 *
 * k6, autocannon and the TCP client (through the lab's own fleet launcher, so these are the
 * figures a lab run measures) and wrk (Debian's package, the independent reference), each alone
 * in a 1-cpu container, one after another against one deployment of a target that costs nearly
 * nothing, straight to the model's own port on the lab network (the front is not on the path).
 * Prints figures, asserts nothing. Goal (issue 8): the TCP client ≥ 0.5 × wrk per CPU-second,
 * closed model, no pipelining.
 *
 * Settings (environment): BENCH_TARGET (node-single | calibrate), BENCH_CONNECTIONS (16),
 * BENCH_WARMUP_S (2), BENCH_DURATION_S (10), BENCH_CLIENT_CPUS (1), BENCH_OPEN_RATE (1000; the
 * open-model rows, 0 to leave them out), BENCH_ONLY (e.g. "wrk,tcp": only the rows of those tools).
 */
import { BenchRun, fib, hostLine, measured, measureFleet, measureWrk, settings, type Measurement } from "./lab.js";
import { fmt, ms, ratio, table, times } from "./table.js";

const TARGETS: Record<string, { env: Record<string, string>; what: string }> = {
  "node-single": { env: {}, what: "node-single, GET /fib/1 and TCP line 1" },
  calibrate: { env: { SERVICE_MS: "0" }, what: "calibrate with SERVICE_MS=0 (asyncio, answers at once)" },
};

const MODEL_DIRECT = { host: "model", httpPort: 8000, tcpPort: 25000 };

function perCpuSecond(m: Measurement): number | null {
  return ratio(m.rps, m.client?.cores);
}

function render(rows: Measurement[], header: string[]): string {
  const wrk = rows.find((m) => m.tool === "wrk");
  const wrkPerCpu = wrk ? perCpuSecond(wrk) : null;
  const body = rows.map((m) => [
    m.tool,
    m.loadModel === "closed" ? "closed" : `open ${fmt(m.rate)}/s`,
    m.protocol,
    fmt(m.connections ?? null),
    fmt(m.rps),
    fmt(m.client?.cpuSeconds, 2),
    fmt(m.client?.cores, 2),
    fmt(perCpuSecond(m)),
    times(ratio(perCpuSecond(m), wrkPerCpu)),
    fmt(m.model?.cores, 2),
    ms(m.p50),
    ms(m.p99),
    m.notes.length ? `[${rows.indexOf(m) + 1}]` : "",
  ]);
  const cols = [
    "tool",
    "load",
    "proto",
    "conns",
    "req/s",
    "client CPU s",
    "client cores",
    "req/s per CPU-s",
    "vs wrk /CPU-s",
    "model cores",
    "p50 ms",
    "p99 ms",
    "note",
  ];
  const notes = rows.flatMap((m, i) => m.notes.map((n) => `  [${i + 1}] ${n}`));
  const hosts = rows.map((m, i) => `  ${i + 1}. ${m.tool} ${m.loadModel}: ${hostLine(m) ?? "no host figure"}`);
  const tcp = rows.find((m) => m.tool === "tcp" && m.loadModel === "closed");
  const goal = tcp && wrkPerCpu !== null ? ratio(perCpuSecond(tcp), wrkPerCpu) : null;
  return [
    ...header,
    "",
    table(cols, body),
    "",
    goal === null
      ? "Goal: TCP client ≥ 0.5 × wrk per CPU-second — not measurable in this run."
      : `Goal: TCP client ≥ 0.5 × wrk per CPU-second (closed, no pipelining): ${times(goal)} — ${goal >= 0.5 ? "met" : "NOT met"}.`,
    ...(notes.length ? ["", "Notes:", ...notes] : []),
    "",
    "The machine during each window (other work on it shares the cores these figures depend on):",
    ...hosts,
  ].join("\n");
}

async function main(): Promise<void> {
  const s = settings();
  const targetName = process.env.BENCH_TARGET ?? "node-single";
  const target = TARGETS[targetName];
  if (!target) throw new Error(`BENCH_TARGET must be one of ${Object.keys(TARGETS).join(", ")}`);
  const openRate = Number(process.env.BENCH_OPEN_RATE ?? 1000);
  const run = new BenchRun("bench-clients");
  run.trapSignals();
  const say = (line: string) => process.stderr.write(`[bench:clients] ${line}\n`);
  const rows: Measurement[] = [];
  const closed = { model: "closed" as const, connections: s.connections, pipelining: 1 };
  try {
    say(`run ${run.id}: deploying ${targetName} (1 replica, 1 cpu)`);
    await run.deploy(targetName, target.env);
    const steps: [string, () => Promise<Measurement>][] = [
      ["wrk closed", () => measureWrk(run, `http://model:8000/fib/1`)],
      ["k6 closed", () => measureFleet(run, { name: "k6-closed", tool: "k6", load: closed, request: fib(1), target: MODEL_DIRECT })],
      [
        "autocannon closed",
        () => measureFleet(run, { name: "autocannon-closed", tool: "autocannon", load: closed, request: fib(1), target: MODEL_DIRECT }),
      ],
      ["tcp closed", () => measureFleet(run, { name: "tcp-closed", tool: "tcp", load: closed, request: fib(1), target: MODEL_DIRECT })],
    ];
    if (openRate > 0) {
      steps.push(
        [
          "k6 open",
          () =>
            measureFleet(run, {
              name: "k6-open",
              tool: "k6",
              load: { model: "open", rate: openRate, vus: { preAllocated: 200, max: 500 } },
              request: fib(1),
              target: MODEL_DIRECT,
            }),
        ],
        [
          "tcp open",
          () =>
            measureFleet(run, {
              name: "tcp-open",
              tool: "tcp",
              load: { model: "open", rate: openRate, connections: s.connections },
              request: fib(1),
              target: MODEL_DIRECT,
            }),
        ],
      );
    }
    const only = process.env.BENCH_ONLY?.split(",").filter(Boolean);
    for (const [what, step] of steps) {
      if (only && !only.some((o) => what.startsWith(o))) continue;
      run.checkAbort();
      say(`${what}: ${s.warmupMs / 1000} s warm-up, ${s.durationMs / 1000} s measured`);
      const m = await measured(what, step, run);
      say(`${what}: ${fmt(m.rps)} req/s, client ${fmt(m.client?.cores, 2)} cores, model ${fmt(m.model?.cores, 2)} cores`);
      rows.push(m);
    }
  } finally {
    say("removing the deployment and every container of the run");
    await run.cleanup();
  }
  const header = [
    `bench:clients — ${new Date().toISOString()}, run ${run.id}`,
    `Target: ${target.what}; 1 replica, 1 cpu. Every client goes straight to the model's own port on the lab`,
    `network (model:8000 HTTP, model:25000 TCP), so the front is not on the path and not the limit.`,
    `Each client alone (one after another, same deployment) in one container of ${s.clientCpus} cpu and 512 MiB;`,
    `${s.warmupMs / 1000} s warm-up, then ${s.durationMs / 1000} s measured. Closed model: ${s.connections} connections (k6: VUs), no pipelining.`,
    `k6, autocannon, tcp: the lab's own fleet launcher; wrk: Debian's wrk 4.1, 1 thread (checks the status only, not the body).`,
    `Client CPU: the engine's counters over the measured window. req/s per CPU-s = req/s / client cores.`,
    `Open rows: a fixed arrival rate below every tool's limit, for the CPU a tool needs for the same work.`,
    `Machine: ${(await import("node:os")).availableParallelism()} cores, shared with whatever else runs (see below).`,
  ];
  process.stdout.write(render(rows, header) + "\n");
}

main().catch((e: Error) => {
  process.stderr.write(`[bench:clients] failed: ${e.message}\n`);
  process.exitCode = 1;
});
