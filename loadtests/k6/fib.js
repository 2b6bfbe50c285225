// fiblab's k6 script: one HTTP client group, driven entirely by environment variables.
//
//   TARGET             base URL, e.g. http://front:8080
//   MIX                JSON list of {path, weight}, e.g. [{"path":"/fib/25","weight":1}]
//   MODEL              open (constant-arrival-rate) | closed (constant-vus)
//   RATE               open: iterations (requests) per second for the WHOLE fleet; run each instance
//                      with --execution-segment so k6 splits it, as the k6 operator does
//   PRE_ALLOCATED_VUS, MAX_VUS   open: VU pool (whole fleet, split by segment too)
//   VUS                closed: VUs (whole fleet, split by segment)
//   DURATION, WARMUP   k6 durations ("5s", "1500ms"); warm-up runs first, its points carry phase=warmup
//   TIMEOUT            per-request timeout (k6 duration), default 10s
//   GROUP              client group name, a tag (client_group) on every metric
//
// Metrics the orchestrator reads (orchestrator/src/fleet/k6-result.ts):
//   fiblab_ok_duration  Trend, ms: duration of each correct 200 reply (the histogram is built from it)
//   fiblab_errors       Counter tagged kind=http_4xx|http_5xx|http_other|wrong_answer|timeout|connect|reset|closed|k6_<code>
//   fiblab_worker       Counter tagged worker=<X-Worker>
//   http_reqs           sent / completed; dropped_iterations for the open model
// Every metric emitted in a scenario carries its phase tag (warmup | measure).
import http from "k6/http";
import { check } from "k6";
import { Counter, Trend } from "k6/metrics";

const env = __ENV;
const TARGET = (env.TARGET || "http://front:8080").replace(/\/+$/, "");
const GROUP = env.GROUP || "default";
const MODEL = env.MODEL || "open";
const DURATION = env.DURATION || "10s";
const WARMUP = env.WARMUP || "0s";
const TIMEOUT = env.TIMEOUT || "10s";
const RATE = Number(env.RATE || "10");
const VUS = positiveInt(env.VUS || "1", "VUS");
const MAX_VUS = positiveInt(env.MAX_VUS || String(Math.min(1000, Math.max(50, Math.ceil(RATE * 2)))), "MAX_VUS");
const PRE_ALLOCATED_VUS = Math.min(
  MAX_VUS,
  positiveInt(env.PRE_ALLOCATED_VUS || String(Math.max(5, Math.ceil(RATE / 5))), "PRE_ALLOCATED_VUS"),
);

function positiveInt(raw, name) {
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return v;
}

// fib(n) as the service prints it: fib(1) = fib(2) = 1. Exact in doubles up to n = 78.
function fibString(n) {
  let a = 0;
  let b = 1;
  for (let i = 0; i < n; i++) {
    const t = a + b;
    a = b;
    b = t;
  }
  if (n > 78) throw new Error(`fib(${n}) is beyond exact doubles`);
  return String(a);
}

function expectedBody(path) {
  const f = /^\/fib\/(\d+)$/.exec(path);
  if (f) return fibString(Number(f[1])) + "\n";
  if (/^\/sleep\/\d+$/.test(path)) return "ok\n";
  return null; // anything else: only the status is checked
}

function parseMix(raw) {
  const list = JSON.parse(raw);
  if (!Array.isArray(list) || list.length === 0) throw new Error("MIX must be a non-empty JSON list");
  let total = 0;
  return list.map((e) => {
    if (typeof e.path !== "string" || !e.path.startsWith("/")) throw new Error(`MIX entry without a path: ${JSON.stringify(e)}`);
    const weight = e.weight === undefined ? 1 : Number(e.weight);
    if (!(weight > 0)) throw new Error(`MIX weight must be > 0: ${JSON.stringify(e)}`);
    total += weight;
    return { path: e.path, url: TARGET + e.path, expect: expectedBody(e.path), upTo: total };
  }).map((e) => ({ ...e, upTo: e.upTo / total }));
}

const MIX = parseMix(env.MIX || '[{"path":"/fib/20","weight":1}]');

function pick() {
  if (MIX.length === 1) return MIX[0];
  const r = Math.random();
  for (const e of MIX) if (r < e.upTo) return e;
  return MIX[MIX.length - 1];
}

function isZero(d) {
  return /^0+(\.0+)?(ms|s|m|h)?$/.test(String(d).trim());
}

// constant-arrival-rate wants an integer rate: a fractional RATE is expressed per 1000 s.
function arrival() {
  if (!(RATE > 0)) throw new Error(`RATE must be > 0 for the open model, got ${env.RATE}`);
  return Number.isInteger(RATE) ? { rate: RATE, timeUnit: "1s" } : { rate: Math.round(RATE * 1000), timeUnit: "1000s" };
}

function scenario(phase, duration, startTime, gracefulStop) {
  const common = { exec: "fib", startTime, gracefulStop, tags: { phase } };
  if (MODEL === "open") {
    return { ...common, executor: "constant-arrival-rate", ...arrival(), duration, preAllocatedVUs: PRE_ALLOCATED_VUS, maxVUs: MAX_VUS };
  }
  if (MODEL === "closed") return { ...common, executor: "constant-vus", vus: VUS, duration };
  throw new Error(`MODEL must be open or closed, got ${MODEL}`);
}

const scenarios = {};
if (!isZero(WARMUP)) scenarios.warmup = scenario("warmup", WARMUP, "0s", "2s");
scenarios.measure = scenario("measure", DURATION, isZero(WARMUP) ? "0s" : WARMUP, TIMEOUT);

export const options = {
  scenarios,
  tags: { client_group: GROUP },
  // Fewer tags per point keeps the JSON output small.
  systemTags: ["status", "method", "name", "scenario", "error_code", "expected_response"],
  summaryTrendStats: ["min", "med", "avg", "p(90)", "p(99)", "max", "count"],
  discardResponseBodies: false,
};

const okDuration = new Trend("fiblab_ok_duration", true);
const errors = new Counter("fiblab_errors");
const workers = new Counter("fiblab_worker");

// k6 error codes (lib/netext/httpext/error_codes.go) → the lab's error kinds.
function networkKind(code, message) {
  if (code === 1050 || code === 1211) return "timeout";
  if (code === 1210 || code === 1212 || code === 1213 || (code >= 1100 && code < 1200)) return "connect";
  if (code === 1201 || code === 1220) return "reset";
  if (message && /EOF|closed/i.test(message)) return "closed";
  return `k6_${code || 0}`;
}

export function fib() {
  const item = pick();
  const res = http.get(item.url, { timeout: TIMEOUT, tags: { name: item.path } });
  if (res.status === 0) {
    errors.add(1, { kind: networkKind(res.error_code, res.error) });
    return;
  }
  const worker = res.headers["X-Worker"];
  if (worker) workers.add(1, { worker });
  const bodyOk = item.expect === null || res.body === item.expect;
  check(res, { "status 200": (r) => r.status === 200, "body correct": () => bodyOk });
  if (res.status >= 500) errors.add(1, { kind: "http_5xx" });
  else if (res.status >= 400) errors.add(1, { kind: "http_4xx" });
  else if (res.status !== 200) errors.add(1, { kind: "http_other" });
  else if (!bodyOk) errors.add(1, { kind: "wrong_answer" });
  else okDuration.add(res.timings.duration);
}

export default fib;
