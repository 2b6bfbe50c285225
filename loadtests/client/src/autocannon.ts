import autocannon from "autocannon";
import { checkHttpReply, expectedHttpBody, mixSequence, type HttpVerdict, type MixEntry } from "./mix.js";
import { now, sleepUntil, type Recorder } from "./recorder.js";

/**
 * autocannon, driven programmatically, closed model: `connections` × `pipelining` requests
 * outstanding, optionally capped at `rate` req/s. Each reply's latency (autocannon's hrtime from
 * the request's write to its reply) goes into our own µs HdrHistogram; autocannon's histogram is
 * integer milliseconds and is not used. Bodies are checked per request, X-Worker counted.
 *
 * One continuous run covers warm-up and measurement (connections stay warm across the boundary);
 * a request belongs to the measurement when it was sent inside the window.
 */
export interface AutocannonOptions {
  host: string;
  port: number;
  connections: number;
  pipelining: number;
  /** Optional cap on this client's request rate, req/s. */
  rate?: number;
  mix: readonly MixEntry[];
  timeoutMs: number;
  /** How long past the window to keep the run going so replies in flight can land (default min(timeout, 1000)). */
  graceMs?: number;
}

function headerValue(headers: Record<string, string | string[]>, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === name) return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}

function connErrorKind(code: string | undefined): string {
  switch (code) {
    case "ECONNREFUSED":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "connect";
    case "ECONNRESET":
    case "EPIPE":
      return "reset";
    case "ETIMEDOUT":
      return "timeout";
    default:
      return code ? `error_${code}` : "error";
  }
}

const LOST_KINDS = ["timeout", "reset", "closed"];

export async function runAutocannon(o: AutocannonOptions, rec: Recorder): Promise<void> {
  const w = rec.window;
  const expected = o.mix.map((e) => expectedHttpBody(e.path));
  // onResponse runs synchronously just before the client's `response` event for the same reply.
  let pending: { verdict: HttpVerdict; worker: string | undefined } | undefined;
  const requests: autocannon.Request[] = mixSequence(o.mix).map((i) => ({
    method: "GET",
    path: (o.mix[i] as MixEntry).path,
    onResponse: (status, body, _ctx, headers) => {
      pending = { verdict: checkHttpReply(status, body, expected[i] ?? null), worker: headerValue(headers, "x-worker") };
    },
  }));

  let rate: number | undefined;
  if (o.rate !== undefined) {
    rate = Math.max(1, Math.round(o.rate));
    rec.notes.push(
      `autocannon rate mode (${rate} req/s): each connection sends its per-second budget as fast as it can, then waits for the next second; ` +
        "latency is NOT corrected for coordinated omission (ignoreCoordinatedOmission), so tail latency is understated; use k6 or the tcp client's open model for an honest fixed rate.",
    );
    if (rate < o.connections) rec.notes.push(`autocannon lowers connections to the rate: ${rate} connections instead of ${o.connections}.`);
  }
  rec.notes.push(
    "autocannon: latency from each request's write to its reply (hrtime), recorded in µs by fiblab; autocannon's own histogram has 1 ms resolution and is not used.",
  );
  if (w.measureStart > w.startAt)
    rec.notes.push("autocannon: warm-up is the start of one continuous run; requests sent before the window are excluded.");

  const setupClient = (client: autocannon.Client) => {
    client.on("request", () => rec.onSent(now()));
    client.on("response", (status: number, _bytes: number, ms: number) => {
      const t = now();
      const start = t - ms;
      const p = pending ?? { verdict: checkHttpReply(status, "", null), worker: undefined };
      pending = undefined;
      if (p.verdict === "ok") rec.onOk(start, t, p.worker);
      else rec.onBadReply(start, p.verdict, p.worker);
    });
    client.on("connError", (e: NodeJS.ErrnoException) => rec.onError(connErrorKind(e.code)));
    client.on("timeout", () => rec.onError("timeout"));
  };

  await sleepUntil(w.startAt);
  if (now() - w.startAt > 100) rec.notes.push(`autocannon: started ${Math.round(now() - w.startAt)} ms after START_AT`);
  const grace = o.graceMs ?? Math.min(o.timeoutMs, 1000);
  await new Promise<void>((resolve, reject) => {
    // The callback may run before the timer below is set (an immediate error).
    const stop: { timer?: NodeJS.Timeout } = {};
    const instance = autocannon(
      {
        url: `http://${o.host}:${o.port}`,
        connections: o.connections,
        pipelining: o.pipelining,
        // Stopped by us at the end of the window (+ grace); this is only a backstop.
        duration: Math.max(1, (w.measureEnd + grace - now()) / 1000 + 5),
        timeout: Math.max(1, Math.round(o.timeoutMs / 1000)),
        requests,
        setupClient,
        sampleInt: 100,
        ...(rate !== undefined ? { overallRate: rate, ignoreCoordinatedOmission: true } : {}),
      },
      (err) => {
        if (stop.timer) clearTimeout(stop.timer);
        if (err) reject(err);
        else resolve();
      },
    );
    stop.timer = setTimeout(() => instance.stop(), Math.max(0, w.measureEnd + grace - now()));
  });

  let lost = 0;
  for (const k of LOST_KINDS) lost += rec.errors[k] ?? 0;
  const cut = rec.sent - rec.completed - lost;
  if (cut > 0)
    rec.notes.push(`autocannon: ${cut} measured request(s) were still in flight ${grace} ms after the window and are not counted.`);
}
