import type { Protocol } from "../models/manifest.js";
import { httpCheck, tcpCheck } from "./verify.js";

/**
 * Cold start: how long from `up` until the model, through the front, first answers correctly on
 * each protocol it serves. Polled while compose brings the cell up, so the figure includes
 * creating the containers, the interpreter's start and the front's first reload.
 */
export type ColdStart = Partial<Record<Protocol, number | null>>;

/** Between tries: short against the figure it measures, long enough not to load a starting model. */
const POLL_MS = 50;
const TRY_TIMEOUT_MS = 1000;

async function answers(protocol: Protocol, ports: { http: number; tcp: number }): Promise<boolean> {
  try {
    const r =
      protocol === "http"
        ? await httpCheck(ports.http, "/fib/10", { status: 200, body: "55\n" }, TRY_TIMEOUT_MS)
        : await tcpCheck(ports.tcp, "10\n", (reply) => reply === "55", TRY_TIMEOUT_MS);
    return r.ok;
  } catch {
    return false;
  }
}

/** Starts polling now; stop() ends it and gives ms from the start to the first correct answer (null: never). */
export function watchColdStart(protocols: readonly Protocol[], ports: { http: number; tcp: number }): { stop(): Promise<ColdStart> } {
  const t0 = Date.now();
  const result: ColdStart = Object.fromEntries(protocols.map((p) => [p, null]));
  let stopped = false;
  const loops = protocols.map(async (p) => {
    while (!stopped) {
      if (await answers(p, ports)) {
        result[p] = Date.now() - t0;
        return;
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  });
  return {
    async stop() {
      // The model is up and verified by now: give a poll in flight a moment to land, then stop.
      await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 2 * TRY_TIMEOUT_MS))]);
      stopped = true;
      return result;
    },
  };
}
