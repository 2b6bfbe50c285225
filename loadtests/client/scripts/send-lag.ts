/**
 * Measures the TCP open model's send lag (actual send − intended send) and its CPU cost against
 * an idle loopback target: a line-protocol server in a child process (the target of a real run is
 * another container), or in this process with --inproc. Prints one line per rate.
 *
 *   npx tsx loadtests/client/scripts/send-lag.ts [rates=100,1000,10000] [seconds=3] [--timers] [--inproc]
 *
 * --timers paces with Node timers only (the client before the metronome), for comparison.
 */
import { fork } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import { fileURLToPath } from "node:url";
import hdr from "hdr-histogram-js";
import { parseMix } from "../src/mix.js";
import { now, Recorder, windowOf } from "../src/recorder.js";
import { TcpClient } from "../src/tcp.js";
import { answerLines } from "./line-server.js";

function serve(): Promise<number> {
  const srv = net.createServer((sock) => answerLines(sock, (out) => out && sock.write(out)));
  return new Promise((r) => srv.listen(0, "127.0.0.1", () => r((srv.address() as net.AddressInfo).port)));
}

if (process.argv[2] === "--child-server") {
  const port = await serve();
  process.send?.(port);
} else {
  const args = process.argv.slice(2);
  const flags = new Set(args.filter((a) => a.startsWith("--")));
  const pos = args.filter((a) => !a.startsWith("--"));
  const rates = (pos[0] ?? "100,1000,10000").split(",").map(Number);
  const seconds = Number(pos[1] ?? 3);
  let port: number;
  let child: ReturnType<typeof fork> | undefined;
  if (flags.has("--inproc")) port = await serve();
  else {
    child = fork(fileURLToPath(import.meta.url), ["--child-server"], { execArgv: process.execArgv });
    port = await new Promise<number>((r) => child!.once("message", (m) => r(Number(m))));
  }
  const cpuTicks = (since?: NodeJS.CpuUsage) => process.cpuUsage(since);
  /** CPU seconds per thread name (Linux): the metronome runs in a thread of its own. */
  const threads = (): Map<string, number> => {
    const out = new Map<string, number>();
    try {
      for (const id of readdirSync("/proc/self/task")) {
        const st = readFileSync(`/proc/self/task/${id}/stat`, "utf8");
        const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
        out.set(id, (Number(f[11]) + Number(f[12])) / 100);
      }
    } catch {
      // not Linux
    }
    return out;
  };
  for (const rate of rates) {
    const rec = new Recorder(windowOf(now() + 300, 0, seconds * 1000));
    const client = new TcpClient(
      {
        host: "127.0.0.1",
        port,
        model: "open",
        rate,
        connections: 2,
        pipelining: 1,
        mix: parseMix("5"),
        timeoutMs: 5000,
        precise: !flags.has("--timers"),
      },
      rec,
    );
    const th0 = threads();
    const c0 = cpuTicks();
    const t0 = now();
    // Per-thread figures are sampled just before the window ends (the metronome thread ends with it).
    let th1 = th0;
    let wall = 0;
    let procW0 = c0;
    let procW = 0;
    let w0 = 0;
    const atStart = setTimeout(() => {
      procW0 = cpuTicks();
      w0 = now();
    }, rec.window.measureStart - now());
    const sampler = setTimeout(
      () => {
        th1 = threads();
        wall = (now() - t0) / 1000;
        const d = cpuTicks(procW0);
        procW = (d.user + d.system) / 1e6 / ((now() - w0) / 1000);
      },
      rec.window.measureEnd - 20 - now(),
    );
    await client.run();
    clearTimeout(sampler);
    clearTimeout(atStart);
    const c = cpuTicks(c0);
    const total = (now() - t0) / 1000;
    const main = String(process.pid);
    const mainCpu = (th1.get(main) ?? 0) - (th0.get(main) ?? 0);
    let others = 0;
    let othersSum = 0;
    for (const [id, v] of th1) {
      if (id === main) continue;
      others = Math.max(others, v - (th0.get(id) ?? 0));
      othersSum += v - (th0.get(id) ?? 0);
    }
    const res = rec.result({ tool: "tcp", loadModel: "open", group: "lag", clientIndex: 0 });
    const lag = hdr.decodeFromCompressedBase64(res.sendLag as string);
    const lat = hdr.decodeFromCompressedBase64(res.histogram);
    console.log(
      `${flags.has("--timers") ? "timers   " : "metronome"} rate ${rate}/s: sent ${res.requests.sent} ok ${res.requests.ok} dropped ${res.dropped}; ` +
        `send lag p50 ${lag.getValueAtPercentile(50)} µs p90 ${lag.getValueAtPercentile(90)} p99 ${lag.getValueAtPercentile(99)} max ${lag.maxValue}; ` +
        `latency p50 ${lat.getValueAtPercentile(50)} µs p99 ${lat.getValueAtPercentile(99)}; ` +
        `cpu: process ${(((c.user + c.system) / 1e6 / total) * 100).toFixed(1)}% of a core over ${total.toFixed(1)} s (connect and drain included); ` +
        `in the window: process ${(procW * 100).toFixed(0)}%, main thread ${((mainCpu / wall) * 100).toFixed(0)}%, busiest other thread (the metronome) ${((others / wall) * 100).toFixed(0)}%, all other threads ${((othersSum / wall) * 100).toFixed(0)}%`,
    );
  }
  child?.kill();
}
