import http from "node:http";
import type net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fibString, parseMix } from "../src/mix.js";
import { now, Recorder, windowOf } from "../src/recorder.js";

// autocannon lives in this package's own node_modules: scripts/build-clients.sh (part of
// `npm test`'s setup) installs it.
describe("autocannon runner", () => {
  let server: http.Server;
  let port = 0;
  beforeAll(async () => {
    let i = 0;
    server = http.createServer((req, res) => {
      const worker = `w/${i++ % 2}`;
      const m = /^\/fib\/(\d+)$/.exec(req.url ?? "");
      if (!m) {
        res.writeHead(404, { "X-Worker": worker }).end("nope\n");
        return;
      }
      const n = Number(m[1]);
      // fib 13 answers wrongly, on purpose
      res.writeHead(200, { "Content-Type": "text/plain", "X-Worker": worker }).end(n === 13 ? "1\n" : `${fibString(n)}\n`);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it("records µs latencies of ok replies, X-Worker counts and errors by kind, warm-up excluded", async () => {
    const { runAutocannon } = await import("../src/autocannon.js");
    const rec = new Recorder(windowOf(now() + 50, 300, 700));
    const mix = parseMix('[{"n":10,"weight":2},{"n":13,"weight":1},{"path":"/nothing","weight":1}]');
    await runAutocannon({ host: "127.0.0.1", port, connections: 2, pipelining: 1, mix, timeoutMs: 2000 }, rec);
    const r = rec.result({ tool: "autocannon", loadModel: "closed", group: "g", clientIndex: 0 });
    expect(r.requests.completed).toBeGreaterThan(40);
    expect(r.requests.ok).toBeGreaterThan(0);
    const q = r.requests.completed / 4;
    expect(r.requests.ok).toBeGreaterThanOrEqual(Math.floor(2 * q) - 2);
    expect(r.errors.wrong_answer).toBeGreaterThanOrEqual(Math.floor(q) - 2);
    expect(r.errors.http_4xx).toBeGreaterThanOrEqual(Math.floor(q) - 2);
    expect(r.requests.ok + (r.errors.wrong_answer ?? 0) + (r.errors.http_4xx ?? 0)).toBe(r.requests.completed);
    expect(Object.keys(r.workers).sort()).toEqual(["w/0", "w/1"]);
    expect((r.workers["w/0"] ?? 0) + (r.workers["w/1"] ?? 0)).toBe(r.requests.completed);
    expect(rec.histogram.totalCount).toBe(r.requests.ok);
    // sub-millisecond values exist: the histogram is in µs, not autocannon's ms
    expect(rec.histogram.minNonZeroValue).toBeLessThan(5_000);
    expect(rec.histogram.minNonZeroValue % 1000 === 0 && rec.histogram.maxValue % 1000 === 0).toBe(false);
    expect(r.notes.join(" ")).toMatch(/1 ms resolution/);
    // per-second intervals (the window is 0.7 s: one, partial), adding up to the totals; no send lag (closed model)
    expect(r.intervals?.length).toBe(1);
    expect(r.intervals?.[0]?.ok).toBe(r.requests.ok);
    expect(r.intervals?.[0]?.errors).toEqual(r.errors);
    expect(r.sendLag).toBeUndefined();
  });

  it("caps the rate when asked and says the latency is not corrected", async () => {
    const { runAutocannon } = await import("../src/autocannon.js");
    const rec = new Recorder(windowOf(now() + 50, 0, 1000));
    await runAutocannon({ host: "127.0.0.1", port, connections: 2, pipelining: 1, rate: 40, mix: parseMix("5"), timeoutMs: 2000 }, rec);
    expect(rec.ok).toBeGreaterThanOrEqual(30);
    expect(rec.ok).toBeLessThanOrEqual(90);
    expect(rec.notes.join(" ")).toMatch(/NOT corrected/);
  });
});
