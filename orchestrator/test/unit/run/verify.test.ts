import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tcpCheck } from "../../../src/run/verify.js";

/** Loopback servers only: one that accepts and closes at once (a forwarder with nothing behind it), one that answers. */
describe("tcpCheck", () => {
  const servers: net.Server[] = [];
  const listen = (onConnection: (s: net.Socket) => void) =>
    new Promise<number>((resolve) => {
      const server = net.createServer(onConnection).listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port));
      servers.push(server);
    });
  let closing = 0;
  let answering = 0;

  beforeAll(async () => {
    closing = await listen((s) => s.end());
    answering = await listen((s) => s.on("data", () => s.write("55\n")));
  });
  afterAll(() => servers.forEach((s) => s.close()));

  it("fails at once when the connection is closed without a reply, rather than waiting forever", async () => {
    const started = Date.now();
    const r = await tcpCheck(closing, "10\n", (reply) => reply === "55", 5000);
    expect(r).toEqual({ ok: false, detail: '"10\\n" -> closed' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("passes on the right reply", async () => {
    expect((await tcpCheck(answering, "10\n", (reply) => reply === "55", 5000)).ok).toBe(true);
  });
});
