import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployModel, leftovers, type Running } from "../support/deploy.js";
import { httpGet, tcpLines } from "../support/clients.js";

// The three platform models, each brought up behind the front with compose, checked on both
// protocols through the front's published ports, then torn down without leftovers.
for (const model of ["py-sync", "py-threads", "py-prefork"]) {
  describe(`${model} behind the front`, () => {
    let lab: Running;
    beforeAll(async () => {
      lab = await deployModel(model);
    });
    afterAll(async () => {
      await lab?.down();
      if (lab) expect(await leftovers(lab.deployment.project)).toBe(0);
    });

    it("answers fib over HTTP with X-Worker", async () => {
      const r = await httpGet(lab.httpPort, "/fib/20");
      expect(r.status).toBe(200);
      expect(r.body).toBe("6765\n");
      expect(r.headers["content-type"]).toMatch(/^text\/plain/);
      expect(r.headers["x-worker"]).toMatch(/^[^/]+\/\d+/);
    });

    it("answers fib over TCP, pipelined, in order", async () => {
      const { lines } = await tcpLines(lab.tcpPort, "20\n1\r\n2\n10\n", 4);
      expect(lines).toEqual(["6765", "1", "1", "55"]);
    });

    it("replies with errors and keeps serving", async () => {
      expect((await httpGet(lab.httpPort, "/fib/abc")).status).toBe(400);
      expect((await httpGet(lab.httpPort, "/fib/99")).status).toBe(422);
      expect((await httpGet(lab.httpPort, "/nope")).status).toBe(404);
      expect((await httpGet(lab.httpPort, "/fib/3", { method: "POST" })).status).toBe(405);
      const { lines } = await tcpLines(lab.tcpPort, "abc\n-1\n99\n7\n", 4);
      expect(lines.slice(0, 3).every((l) => l.startsWith("error: "))).toBe(true);
      expect(lines[3]).toBe("13");
      expect((await httpGet(lab.httpPort, "/fib/12")).body).toBe("144\n");
    });

    it("serves /sleep and /healthz", async () => {
      const t0 = performance.now();
      const r = await httpGet(lab.httpPort, "/sleep/200");
      expect(r.status).toBe(200);
      expect(r.body).toBe("ok\n");
      expect(performance.now() - t0).toBeGreaterThanOrEqual(195);
      expect((await httpGet(lab.httpPort, "/healthz")).status).toBe(200);
    });
  });
}

describe("replicas behind one front", () => {
  let lab: Running;
  beforeAll(async () => {
    lab = await deployModel("py-threads", { replicas: 1 });
  });
  afterAll(async () => {
    await lab?.down();
    if (lab) expect(await leftovers(lab.deployment.project)).toBe(0);
  });

  async function hostsSeen(n: number): Promise<Set<string>> {
    const hosts = new Set<string>();
    for (let i = 0; i < n; i++) {
      const r = await httpGet(lab.httpPort, "/fib/5");
      expect(r.body).toBe("5\n");
      hosts.add(String(r.headers["x-worker"]).split("/")[0]!);
    }
    return hosts;
  }

  it("balances over every replica after a scale change", async () => {
    expect((await hostsSeen(6)).size).toBe(1);
    await lab.scale(2);
    // The front notices the new replica within a couple of seconds and reloads.
    let seen = new Set<string>();
    for (let attempt = 0; attempt < 10 && seen.size < 2; attempt++) {
      await new Promise((r) => setTimeout(r, 1000));
      seen = await hostsSeen(10);
    }
    expect(seen.size).toBe(2);
  });
});
