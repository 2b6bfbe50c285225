/**
 * Finding 1 of issue 8, measured: a server stall at a high rate on one connection, against a
 * loopback line-protocol server in a child process that holds every reply received during the
 * stall until its end.
 *
 *   npx tsx loadtests/client/scripts/stall.ts [rate=50000] [stallMs=2000] [durationMs=6000]
 *
 * The stall runs from 1 s into the window. Prints sent, dropped, achieved rate and percentiles.
 */
import { fork } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";
import hdr from "hdr-histogram-js";
import { parseMix } from "../src/mix.js";
import { now, Recorder, windowOf } from "../src/recorder.js";
import { TcpClient } from "../src/tcp.js";
import { answerLines } from "./line-server.js";

if (process.argv[2] === "--child-server") {
  const [from, to] = [Number(process.argv[3]), Number(process.argv[4])];
  const srv = net.createServer((sock) => {
    let held = "";
    let timer: NodeJS.Timeout | undefined;
    answerLines(sock, (out) => {
      const t = Date.now();
      if (t >= from && t < to) {
        held += out;
        timer ??= setTimeout(() => sock.write(held), to - t);
      } else if (out) sock.write(out);
    });
  });
  srv.listen(0, "127.0.0.1", () => process.send?.((srv.address() as net.AddressInfo).port));
} else {
  const rate = Number(process.argv[2] ?? 50_000);
  const stallMs = Number(process.argv[3] ?? 2000);
  const durationMs = Number(process.argv[4] ?? 6000);
  const startAt = now() + 500;
  const from = Math.round(startAt + 1000);
  const child = fork(fileURLToPath(import.meta.url), ["--child-server", String(from), String(from + stallMs)], {
    execArgv: process.execArgv,
  });
  const port = await new Promise<number>((r) => child.once("message", (m) => r(Number(m))));
  const rec = new Recorder(windowOf(startAt, 0, durationMs));
  const t0 = now();
  await new TcpClient(
    { host: "127.0.0.1", port, model: "open", rate, connections: 1, pipelining: 1, mix: parseMix("5"), timeoutMs: 10_000 },
    rec,
  ).run();
  const res = rec.result({ tool: "tcp", loadModel: "open", group: "stall", clientIndex: 0 });
  const h = hdr.decodeFromCompressedBase64(res.histogram);
  const lag = hdr.decodeFromCompressedBase64(res.sendLag as string);
  const ms = (v: number) => (v / 1000).toFixed(1);
  console.log(
    `rate ${rate}/s, ${stallMs} ms stall, ${durationMs} ms window: scheduled ${rate * (durationMs / 1000)}, sent ${res.requests.sent}, ok ${res.requests.ok}, ` +
      `dropped ${res.dropped}, errors ${JSON.stringify(res.errors)}; achieved ${(res.requests.ok / (durationMs / 1000)).toFixed(0)} req/s; ` +
      `latency p50 ${ms(h.getValueAtPercentile(50))} ms p99 ${ms(h.getValueAtPercentile(99))} ms max ${ms(h.maxValue)} ms; ` +
      `send lag p50 ${lag.getValueAtPercentile(50)} µs; run took ${((now() - t0) / 1000).toFixed(1)} s`,
  );
  child.kill();
}
