import net from "node:net";
import type { Protocol } from "../models/manifest.js";

/**
 * Before any load: the model must answer correctly and reply to bad input with an error, on
 * every protocol it serves, through the front. A model that fails is recorded, not measured.
 */
export interface Verification {
  ok: boolean;
  checks: { protocol: Protocol; check: string; ok: boolean; detail: string }[];
}

export async function httpCheck(port: number, path: string, want: { status: number; body?: string }, timeoutMs = 10_000) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
  const body = await res.text();
  const ok = res.status === want.status && (want.body === undefined || body === want.body);
  return { ok, detail: `GET ${path} -> ${res.status} ${JSON.stringify(body.slice(0, 60))}` };
}

export function tcpCheck(port: number, line: string, want: (reply: string) => boolean, timeoutMs = 10_000) {
  return new Promise<{ ok: boolean; detail: string }>((resolve) => {
    const sock = net.connect(port, "127.0.0.1");
    let got = "";
    const finish = (detail?: string) => {
      sock.destroy();
      const reply = got.split("\n")[0] ?? "";
      resolve({ ok: detail === undefined && want(reply), detail: detail ?? `${JSON.stringify(line)} -> ${JSON.stringify(reply)}` });
    };
    sock.setTimeout(timeoutMs, () => finish(`${JSON.stringify(line)} -> timeout`));
    sock.on("error", (e) => finish(`${JSON.stringify(line)} -> ${e.message}`));
    // A port forwarder accepts and then closes when nothing listens behind it (a swarm node's
    // forwarded front port before the stack is up): no error, no data, and no timeout after it.
    sock.on("close", () => finish(`${JSON.stringify(line)} -> closed`));
    sock.on("connect", () => sock.write(line));
    sock.on("data", (d) => {
      got += d.toString();
      if (got.includes("\n")) finish();
    });
  });
}

export async function verifyModel(protocols: readonly Protocol[], ports: { http: number; tcp: number }): Promise<Verification> {
  const checks: Verification["checks"] = [];
  const run = async (protocol: Protocol, check: string, f: () => Promise<{ ok: boolean; detail: string }>) => {
    try {
      checks.push({ protocol, check, ...(await f()) });
    } catch (e) {
      checks.push({ protocol, check, ok: false, detail: (e as Error).message });
    }
  };
  if (protocols.includes("http")) {
    await run("http", "fib(20)", () => httpCheck(ports.http, "/fib/20", { status: 200, body: "6765\n" }));
    await run("http", "bad number", () => httpCheck(ports.http, "/fib/x", { status: 400 }));
  }
  if (protocols.includes("tcp")) {
    await run("tcp", "fib(20)", () => tcpCheck(ports.tcp, "20\n", (r) => r === "6765"));
    await run("tcp", "bad number", () => tcpCheck(ports.tcp, "x\n", (r) => r.startsWith("error:")));
  }
  return { ok: checks.every((c) => c.ok), checks };
}
