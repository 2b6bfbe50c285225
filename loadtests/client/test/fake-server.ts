import net from "node:net";
import hdr from "hdr-histogram-js";
import { Fifo } from "../src/fifo.js";
import { fibString, parseMix } from "../src/mix.js";
import { now, Recorder, windowOf } from "../src/recorder.js";
import { TcpClient, type TcpOptions } from "../src/tcp.js";

/**
 * A line-protocol server in the test process. `reply` decides each answer (undefined: never
 * answer); `holdUntil` returns a time before which no reply of that connection goes out (a stall);
 * replies stay in request order per connection, as the protocol demands.
 */
export interface FakeOpts {
  /** `conn`: the connection's number on this server, from 0 in accept order. */
  reply?: (n: number, conn: number) => string | undefined;
  holdUntil?: (receivedAt: number, n: number, conn: number) => number;
  /** Called per request; return true to reset the connection instead of answering. */
  reset?: (n: number) => boolean;
}
export const servers: net.Server[] = [];
/** Closes every server opened by fakeServer (call from afterEach). */
export async function closeServers(): Promise<void> {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
}

export async function fakeServer(o: FakeOpts = {}): Promise<number> {
  let accepted = 0;
  const srv = net.createServer((sock) => {
    const conn = accepted++;
    sock.setNoDelay(true);
    let buf = "";
    // O(1) queue: a stall piles up tens of thousands of replies here.
    const queue = new Fifo<{ at: number; text: string }>();
    let last = 0;
    let timer: NodeJS.Timeout | undefined;
    const flush = () => {
      timer = undefined;
      const t = now();
      let out = "";
      while (queue.length && (queue.peek() as { at: number }).at <= t) out += (queue.shift() as { text: string }).text;
      if (out && !sock.destroyed) sock.write(out);
      if (queue.length) timer = setTimeout(flush, Math.min(2 ** 31 - 1, Math.max(0, (queue.peek() as { at: number }).at - now())));
    };
    sock.on("data", (d) => {
      const t = now();
      buf += d.toString("latin1");
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const n = Number(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (o.reset?.(n)) {
          sock.resetAndDestroy();
          return;
        }
        const text = o.reply ? o.reply(n, conn) : fibString(n);
        if (text === undefined) continue;
        last = Math.max(last, o.holdUntil?.(t, n, conn) ?? 0);
        queue.push({ at: last, text: `${text}\n` });
      }
      if (!timer) flush();
    });
    sock.on("error", () => {});
    sock.on("close", () => timer && clearTimeout(timer));
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return (srv.address() as net.AddressInfo).port;
}

/**
 * One client run against a loopback port, starting `leadMs` from now (default 100; the open
 * model's metronome thread boots meanwhile); `onStart` learns the start time (epoch ms).
 */
export async function run(
  port: number,
  o: Partial<TcpOptions> & { warmupMs?: number; durationMs: number; leadMs?: number; onStart?: (startAt: number) => void },
) {
  const startAt = now() + (o.leadMs ?? 100);
  o.onStart?.(startAt);
  const rec = new Recorder(windowOf(startAt, o.warmupMs ?? 0, o.durationMs));
  const client = new TcpClient(
    { host: "127.0.0.1", port, model: "open", connections: 1, pipelining: 1, mix: parseMix("5"), timeoutMs: 2000, ...o },
    rec,
  );
  await client.run();
  const res = rec.result({ tool: "tcp", loadModel: o.model ?? "open", group: "t", clientIndex: 0 });
  return { rec, res, hist: hdr.decodeFromCompressedBase64(res.histogram) };
}

/** About how many recorded values are at or above `us` (the histogram API only offers percentiles). */
export function countAbove(h: ReturnType<typeof hdr.decodeFromCompressedBase64>, us: number): number {
  if (h.totalCount === 0 || h.maxValue < us) return 0;
  let lo = 0;
  let hi = 100;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (h.getValueAtPercentile(mid) >= us) hi = mid;
    else lo = mid;
  }
  return h.totalCount - Math.round((lo / 100) * h.totalCount);
}
