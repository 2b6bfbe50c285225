// fiblab's k6 script: one HTTP client group, driven entirely by environment variables.
//
//   TARGET             base URL, e.g. http://front:8080
//   MIX                JSON list of {path, weight}, e.g. [{"path":"/fib/25","weight":1}]; an entry may
//                      give its expected body ("expect": "75025\n", or null: status only), which
//                      otherwise follows from the path (/fib/N, /sleep/N)
//   MODEL              open (constant-arrival-rate) | closed (constant-vus)
//   RATE               open: iterations (requests) per second for the WHOLE fleet; run each instance
//                      with --execution-segment so k6 splits it, as the k6 operator does
//   PRE_ALLOCATED_VUS, MAX_VUS   open: VU pool (whole fleet, split by segment too)
//   VUS                closed: VUs (whole fleet, split by segment)
//   DURATION, WARMUP   k6 durations ("5s", "1500ms"); warm-up runs first, its points carry phase=warmup
//   TIMEOUT            per-request timeout (k6 duration), default 10s
//   GROUP              client group name, a tag (client_group) on every metric
//
// Results: k6 is built with fiblab's output extension (loadtests/k6/hdrout, `--out fiblab-hdr=FILE`,
// see orchestrator/src/fleet/k6-result.ts), which keeps HdrHistograms in memory and writes them
// once at the end: no per-request lines. It reads k6's own HTTP trail (http_req_duration with the
// status / error_code / error system tags: ok = 200, else the error's kind) and, from this script:
//   fiblab_wrong_answer  Trend, ms: a 200 whose body is wrong (moves that request to wrong_answer)
//   fiblab_worker        Counter tagged worker=<X-Worker>
// Every metric emitted in a scenario carries its phase tag (warmup | measure). k6's own count of
// the measured requests is the sub-metric http_reqs{phase:measure} (a threshold that always holds
// puts it in the end-of-test summary and --summary-export). `--out json=...` still works, for
// debugging only.
import http from "k6/http";
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
    const expect = e.expect === undefined ? expectedBody(e.path) : e.expect === null ? null : String(e.expect);
    return { path: e.path, url: TARGET + e.path, expect, upTo: total };
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
  // Only the tags someone reads: fewer tags make every sample cheaper. error (the message) is set
  // on failed requests only; it tells a closed connection (EOF) from other k6 errors.
  systemTags: ["status", "error_code", "error", "scenario"],
  thresholds: { "http_reqs{phase:measure}": ["count>=0"] },
  summaryTrendStats: ["min", "med", "avg", "p(90)", "p(99)", "max", "count"],
  discardResponseBodies: false,
};

// No http_req_failed sample and no expected_response tag: outcomes are classified by the output
// extension from the status and error tags.
http.setResponseCallback(null);

const wrongAnswer = new Trend("fiblab_wrong_answer", true);
const workers = new Counter("fiblab_worker");
const PARAMS = { timeout: TIMEOUT };

export function fib() {
  const item = pick();
  const res = http.get(item.url, PARAMS);
  if (res.status === 0) return; // k6's trail carries the error code
  const worker = res.headers["X-Worker"];
  if (worker) workers.add(1, { worker });
  if (res.status === 200 && item.expect !== null && res.body !== item.expect) wrongAnswer.add(res.timings.duration);
}

export default fib;
