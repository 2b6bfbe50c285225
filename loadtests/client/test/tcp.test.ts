import type net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { fibString, parseMix } from "../src/mix.js";
import { now, Recorder, windowOf } from "../src/recorder.js";
import { TcpClient } from "../src/tcp.js";
import { closeServers, countAbove, fakeServer, run, servers } from "./fake-server.js";

afterEach(closeServers);

describe("tcp client, open model", () => {
  it("sends on schedule and gets every answer right", async () => {
    const port = await fakeServer();
    const { res, hist } = await run(port, { rate: 200, durationMs: 500, connections: 2, mix: parseMix("5:3,20:1") });
    expect(res.requests.sent).toBe(100);
    expect(res.requests.ok).toBe(100);
    expect(res.requests.completed).toBe(100);
    expect(res.dropped).toBe(0);
    expect(res.errors).toEqual({});
    expect(hist.totalCount).toBe(100);
    expect(hist.getValueAtPercentile(50)).toBeLessThan(20_000);
  });

  it("counts a server stall in full from each request's intended time (no coordinated omission)", async () => {
    // Replies to requests received between 300 and 600 ms go out at 600 ms.
    let t0 = 0;
    const port = await fakeServer({
      holdUntil: (t) => (t - t0 >= 300 && t - t0 < 600 ? t0 + 600 : 0),
    });
    const startAt = now() + 100;
    t0 = startAt;
    const rec = new Recorder(windowOf(startAt, 0, 1000));
    await new TcpClient(
      { host: "127.0.0.1", port, model: "open", rate: 200, connections: 1, pipelining: 1, mix: parseMix("5"), timeoutMs: 2000 },
      rec,
    ).run();
    const h = rec.histogram;
    expect(rec.sent).toBe(200);
    expect(rec.ok).toBe(200);
    // 60 requests were intended during the stall; theirs latencies fall from ~300 ms to ~0:
    // about 40 of them wait 100 ms or more, about 20 wait 200 ms or more.
    const over100 = countAbove(h, 100_000);
    const over200 = countAbove(h, 200_000);
    expect(over100).toBeGreaterThanOrEqual(30);
    expect(over100).toBeLessThanOrEqual(50);
    expect(over200).toBeGreaterThanOrEqual(14);
    expect(over200).toBeLessThanOrEqual(28);
    expect(h.maxValue).toBeGreaterThan(280_000);
    expect(h.maxValue).toBeLessThan(400_000);
  });

  it("charges requests that waited behind a slow reply from their intended time", async () => {
    // maxInflight 1: while the first reply is held for 200 ms the next requests cannot be sent.
    let first = true;
    const port = await fakeServer({
      holdUntil: (t) => {
        if (!first) return 0;
        first = false;
        return t + 200;
      },
    });
    const { res, hist, rec } = await run(port, { rate: 50, durationMs: 400, maxInflight: 1 });
    expect(res.requests.sent).toBe(20);
    expect(res.requests.ok).toBe(20);
    // request k (intended at 20k ms, k < 10) could only go out after ~200 ms: latency ≈ 200 - 20k
    expect(hist.maxValue).toBeGreaterThan(190_000);
    expect(countAbove(hist, 100_000)).toBeGreaterThanOrEqual(4);
    expect(rec.maxSendLagMs).toBeGreaterThan(150);
    expect(res.notes.join(" ")).toMatch(/behind its intended time/);
  });

  it("gives up requests unsent a whole timeout after their intended time (dropped); unanswered ones time out", async () => {
    const port = await fakeServer({ reply: () => undefined });
    const { res } = await run(port, { rate: 100, durationMs: 500, maxInflight: 2, timeoutMs: 800 });
    // 2 sent at once; the first times out at ~800-900 ms, the connection is redone and the two
    // oldest requests not yet given up go out; they time out in turn. The rest waited 800 ms unsent.
    expect(res.requests.sent).toBe(4);
    expect(res.dropped).toBe(46);
    expect(res.requests.ok).toBe(0);
    expect(res.errors).toEqual({ timeout: 2, closed_behind_timeout: 2 });
  });

  it("excludes the warm-up", async () => {
    const port = await fakeServer();
    const { res } = await run(port, { rate: 100, warmupMs: 300, durationMs: 500 });
    expect(res.requests.sent).toBe(50);
    expect(res.requests.ok).toBe(50);
    expect(res.endedAt - res.startedAt).toBe(500);
  });
});

describe("tcp client, closed model and errors", () => {
  it("keeps connections x pipelining outstanding and measures from the send", async () => {
    const port = await fakeServer({ holdUntil: (t) => t + 5 });
    const { res, hist } = await run(port, { model: "closed", connections: 2, pipelining: 3, durationMs: 500 });
    // each connection completes 3 requests per ~5 ms: ~2 * 3 * 100 = 600 in 500 ms
    expect(res.requests.ok).toBeGreaterThan(300);
    expect(res.requests.ok).toBeLessThanOrEqual(620);
    expect(res.requests.sent).toBe(res.requests.ok);
    expect(hist.getValueAtPercentile(50)).toBeGreaterThanOrEqual(4_500);
    expect(hist.getValueAtPercentile(50)).toBeLessThan(30_000);
  });

  it("tells error replies and wrong answers apart", async () => {
    const port = await fakeServer({ reply: (n) => (n === 13 ? "999" : n === 14 ? "error: bad number" : fibString(n)) });
    const { res } = await run(port, { model: "closed", connections: 1, pipelining: 1, durationMs: 300, mix: parseMix("13:1,14:1,7:1") });
    const third = res.requests.completed / 3;
    expect(res.requests.completed).toBeGreaterThan(30);
    expect(res.errors.wrong_answer).toBeGreaterThanOrEqual(Math.floor(third));
    expect(res.errors.error_reply).toBeGreaterThanOrEqual(Math.floor(third));
    expect(res.requests.ok).toBeGreaterThanOrEqual(Math.floor(third));
    expect(res.requests.ok + (res.errors.wrong_answer ?? 0) + (res.errors.error_reply ?? 0)).toBe(res.requests.completed);
  });

  it("counts a reset, reconnects and goes on", async () => {
    let resets = 0;
    const port = await fakeServer({ reset: (n) => n === 13 && resets++ < 2 });
    const { res } = await run(port, { model: "closed", connections: 1, pipelining: 2, durationMs: 400, mix: parseMix("13:1,5:20") });
    expect(res.errors.reset).toBeGreaterThanOrEqual(2);
    expect(res.requests.ok).toBeGreaterThan(50);
  });

  it("counts failed connects", async () => {
    const port = await fakeServer();
    await new Promise((r) => (servers.pop() as net.Server).close(r));
    const { res } = await run(port, { model: "closed", connections: 1, pipelining: 1, durationMs: 400 });
    expect(res.requests.sent).toBe(0);
    expect(res.errors.connect).toBeGreaterThanOrEqual(2);
  });
});
