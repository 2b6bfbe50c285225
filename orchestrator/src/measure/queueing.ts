import { exponential, mulberry32 } from "../../../loadtests/contract/random.js";

/**
 * Queueing theory beside the measurement: what a queue of requests over c servers should show
 * at the offered rate, to set beside what a run measured. Pure: no I/O.
 *
 * Two layouts the lab compares: one shared FIFO queue over c servers (a master's accept queue:
 * M/D/c with a fixed fib service time) and c separate FIFO queues fed round-robin by the front
 * (replicas: each queue sees every c-th arrival, E_c/D/1 with Poisson input).
 *
 * A fact the study should know before reading any figure: with a constant service time D and
 * strict per-request round-robin, the two layouts give the SAME waiting time to every request, not
 * just the same distribution. In one FIFO queue with equal service times, requests leave in the
 * order they started, so request j starts when request j-c has left: s_j = max(a_j, s_{j-c} + D),
 * which is exactly the recursion of the round-robin queue j mod c (the classical equivalence of
 * M/D/c and E_c/D/1 waits). Least-conn with ties broken in turn picks the same queue as
 * round-robin then, so it coincides too. The shared queue wins only when service times vary,
 * which the simulator shows with an exponential or empirical service time.
 *
 * Analytic where exact: M/M/1, M/M/c (Erlang C), M/D/1 and M/D/c (the exact distribution, below);
 * Cosmetatos' approximation of the M/D/c mean as a cross-check. Everything else is a seeded
 * discrete-event simulation of the same arrivals (mulberry32, as the load clients draw them).
 * Analytic functions take any time unit (rates per that unit); predict() works in ms and req/s.
 */

function assertPositive(name: string, v: number): void {
  if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`${name} must be a positive number, got ${v}`);
}

function assertQueue(lambda: number, mu: number, servers: number): void {
  assertPositive("arrival rate", lambda);
  assertPositive("service rate", mu);
  if (!Number.isInteger(servers) || servers < 1) throw new RangeError(`servers must be an integer ≥ 1, got ${servers}`);
  if (lambda >= servers * mu) throw new RangeError(`unstable: load ${lambda / (servers * mu)} ≥ 1 has no steady state`);
}

function assertQuantile(q: number): void {
  if (!(q >= 0 && q < 1)) throw new RangeError(`quantile must be in [0, 1), got ${q}`);
}

// ---------------------------------------------------------------------------------------------
// M/M/1 and M/M/c: exact (Kleinrock, Queueing Systems I, §3.2 and §3.5). Here to check the
// simulator against, since nothing in the lab serves exponential work.

/**
 * Erlang C: the probability that an arrival waits in M/M/c at offered load a = λ/μ erlangs.
 * Through the Erlang B recursion B(k) = aB(k-1) / (k + aB(k-1)), which needs no factorials and
 * stays accurate for hundreds of servers; then C = cB / (c - a(1 - B)).
 */
export function erlangC(servers: number, offered: number): number {
  if (!(offered < servers)) throw new RangeError(`unstable: ${offered} erlangs on ${servers} servers`);
  let b = 1;
  for (let k = 1; k <= servers; k++) b = (offered * b) / (k + offered * b);
  return (servers * b) / (servers - offered * (1 - b));
}

/** M/M/c: the exact waiting time. P(W > t) = C·e^{-(cμ-λ)t}; for c = 1, C = ρ. */
export interface ExactQueue {
  /** P(W > 0): the share of arrivals that wait. */
  probWait: number;
  meanWait: number;
  meanResponse: number;
  waitTail(t: number): number;
  waitQuantile(q: number): number;
  responseTail(t: number): number;
  responseQuantile(q: number): number;
}

export function mmc(lambda: number, mu: number, servers: number): ExactQueue {
  assertQueue(lambda, mu, servers);
  const c = erlangC(servers, lambda / mu);
  const theta = servers * mu - lambda;
  const waitTail = (t: number) => (t < 0 ? 1 : c * Math.exp(-theta * t));
  // T = W + S with S ~ Exp(μ) independent of W under FIFO: convolve the tail above.
  // P(T > t) = e^{-μt} + Cμ(e^{-μt} - e^{-θt}) / (θ - μ); its limit Cμt·e^{-μt} at θ = μ.
  const responseTail = (t: number) => {
    if (t <= 0) return 1;
    const d = theta - mu;
    const mixed = Math.abs(d) < 1e-9 * mu ? mu * t * Math.exp(-mu * t) : (mu * (Math.exp(-mu * t) - Math.exp(-theta * t))) / d;
    return Math.exp(-mu * t) + c * mixed;
  };
  return {
    probWait: c,
    meanWait: c / theta,
    meanResponse: c / theta + 1 / mu,
    waitTail,
    waitQuantile: (q) => {
      assertQuantile(q);
      return q <= 1 - c ? 0 : Math.log(c / (1 - q)) / theta;
    },
    responseTail,
    responseQuantile: (q) => quantileOfTail(responseTail, q, 1 / mu),
  };
}

/** The least t with tail(t) ≤ 1 - q, for a continuous decreasing tail: doubling, then bisection. */
function quantileOfTail(tail: (t: number) => number, q: number, scale: number): number {
  assertQuantile(q);
  let lo = 0;
  let hi = scale;
  while (tail(hi) > 1 - q) {
    lo = hi;
    hi *= 2;
  }
  for (let i = 0; i < 200 && hi - lo > 1e-13 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (tail(mid) > 1 - q) lo = mid;
    else hi = mid;
  }
  return hi;
}

// ---------------------------------------------------------------------------------------------
// M/D/1 and M/D/c.

/** Pollaczek–Khinchine for a constant service time D: E[W] = ρD / (2(1 - ρ)), ρ = λD. */
export function md1MeanWait(lambda: number, service: number): number {
  assertQueue(lambda, 1 / service, 1);
  const rho = lambda * service;
  return (rho * service) / (2 * (1 - rho));
}

/**
 * Cosmetatos' approximation of the M/D/c mean wait (G. P. Cosmetatos, "Some approximate
 * equilibrium results for the multi-server queue (M/G/r)", Operational Research Quarterly 27,
 * 1976): half the M/M/c wait, corrected for c > 1,
 *   W(M/D/c) ≈ ½·W(M/M/c)·[1 + (1 - ρ)(c - 1)(√(4 + 5c) - 2) / (16ρc)].
 * An approximation (a few per cent off); exact for c = 1 (it reduces to Pollaczek–Khinchine).
 * mdc() below computes the exact value; this is the cross-check.
 */
export function mdcMeanWaitCosmetatos(lambda: number, service: number, servers: number): number {
  const mm = mmc(lambda, 1 / service, servers);
  const rho = (lambda * service) / servers;
  const correction = 1 + ((1 - rho) * (servers - 1) * (Math.sqrt(4 + 5 * servers) - 2)) / (16 * rho * servers);
  return 0.5 * mm.meanWait * correction;
}

/** Poisson(m) probabilities P(N = 0..), far enough that what is left is below 1e-18, lumped into the last. */
function poissonPmf(m: number): Float64Array {
  const values: number[] = [];
  let logP = -m;
  let sum = 0;
  for (let j = 0; ; j++) {
    if (j > 0) logP += Math.log(m) - Math.log(j);
    const p = Math.exp(logP);
    values.push(p);
    sum += p;
    if (j > m && (p < 1e-18 || 1 - sum < 1e-18)) break;
  }
  const pmf = Float64Array.from(values);
  pmf[pmf.length - 1] = (pmf[pmf.length - 1] as number) + Math.max(0, 1 - sum);
  return pmf;
}

/** P(N ≤ 0..upto) for N ~ Poisson(m), summed from the log-space terms (no cancellation). */
function poissonCdf(m: number, upto: number): Float64Array {
  const cdf = new Float64Array(upto + 1);
  if (m === 0) return cdf.fill(1);
  let logP = -m;
  let sum = 0;
  for (let j = 0; j <= upto; j++) {
    if (j > 0) logP += Math.log(m) - Math.log(j);
    sum += Math.exp(logP);
    cdf[j] = Math.min(1, sum);
  }
  return cdf;
}

/**
 * z0 > 1 with e^{a(z-1)} = z^c, a = λD < c: the tail of the queue decays like z0^{-n}; it sizes
 * the truncation below.
 */
function decayRoot(a: number, c: number): number {
  const f = (z: number) => a * (z - 1) - c * Math.log(z);
  let lo = 1;
  let hi = 2;
  while (f(hi) <= 0) hi *= 2;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) <= 0) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Above this many states the exact M/D/c gives way to the simulator (load within ~0.1% of 1). */
const MAX_STATES = 200_000;

/**
 * The stationary distribution of S = max(0, max_n Σ_{i≤n} (A_i - c)), A_i ~ Poisson(a): by
 * Lindley's duality, of the chain V' = max(V + A - c, 0) (the customers beyond c in an M/D/c
 * watched every D). Solved by GTH (Grassmann, Taksar and Heyman, Operations Research 33, 1985):
 * state elimination with no subtractions, so no cancellation however close the load is to 1, and
 * on a band (V falls by at most c, rises by at most the Poisson's reach), which elimination keeps.
 */
function lindleyMax(a: number, c: number): Float64Array {
  const pmf = poissonPmf(a);
  const reach = pmf.length - 1; // column index j - i + c lies in [0, reach]
  const size = Math.ceil((1.5 * Math.log(1e16)) / Math.log(decayRoot(a, c))) + 4 * c + reach;
  if (size > MAX_STATES) throw new RangeError(`load ${a / c} too close to 1 for the exact M/D/${c}`);
  const n = size; // states 0..n
  const band = Array.from({ length: n + 1 }, () => new Float64Array(reach + 1));
  const at = (i: number, j: number) => j - i + c;
  for (let i = 0; i <= n; i++) {
    const row = band[i] as Float64Array;
    for (let k = 0; k <= reach; k++) {
      const j = at(i, Math.min(n, Math.max(0, i + k - c)));
      row[j] = (row[j] as number) + (pmf[k] as number);
    }
  }
  const down = new Float64Array(n + 1); // Σ_{j<m} p_mj when m was eliminated
  for (let m = n; m >= 1; m--) {
    const rowM = band[m] as Float64Array;
    let s = 0;
    for (let j = Math.max(0, m - c); j < m; j++) s += rowM[at(m, j)] as number;
    down[m] = s;
    for (let i = Math.max(0, m - (reach - c)); i < m; i++) {
      const rowI = band[i] as Float64Array;
      const f = (rowI[at(i, m)] as number) / s;
      if (f === 0) continue;
      for (let j = Math.max(0, m - c); j < m; j++) rowI[at(i, j)] = (rowI[at(i, j)] as number) + f * (rowM[at(m, j)] as number);
    }
  }
  const pi = new Float64Array(n + 1);
  pi[0] = 1;
  let total = 1;
  for (let m = 1; m <= n; m++) {
    let s = 0;
    for (let i = Math.max(0, m - (reach - c)); i < m; i++) s += (pi[i] as number) * ((band[i] as Float64Array)[at(i, m)] as number);
    pi[m] = s / (down[m] as number);
    total += pi[m] as number;
  }
  return pi.map((p) => p / total);
}

/** The exact waiting time of M/D/c (c = 1: M/D/1). */
export interface WaitDistribution {
  probWait: number;
  meanWait: number;
  cdf(t: number): number;
  quantile(q: number): number;
}

/**
 * The exact M/D/c waiting time, FIFO: Crommelin's result (1932; in a simple form in Franx, "A
 * simple solution for the M/D/c waiting time distribution", Operations Research Letters 29, 2001),
 * reached here from the recursion at the top. Unrolled, request j starts at max over m ≥ 0 of
 * a_{j-mc} + mD, so it waits at most kD + u (0 ≤ u < D) iff for every i ≥ 0 fewer than
 * (k+1+i)c others arrived in the (i+1)D - u before it. Looking back from a Poisson arrival those
 * counts are N + A_1 + … + A_i (N ~ Poisson(λ(D-u)), A ~ Poisson(λD), independent), hence
 *   P(W ≤ kD + u) = P(N + S ≤ (k+1)c - 1),  S = max(0, max_i Σ (A - c)) as computed above.
 * Every term is a probability, so unlike Erlang's alternating series for M/D/1,
 * (1-ρ)·Σ_k e^{λ(t-kD)}·(-λ(t-kD))^k/k!, nothing cancels at high load or far in the tail.
 */
export function mdc(lambda: number, service: number, servers: number): WaitDistribution {
  assertQueue(lambda, 1 / service, servers);
  const s = lindleyMax(lambda * service, servers);
  const reach = poissonPmf(lambda * service).length - 1;
  const sCdf = new Float64Array(s.length);
  let acc = 0;
  s.forEach((p, j) => (sCdf[j] = acc = Math.min(1, acc + p)));
  const sAtMost = (b: number) => (b >= sCdf.length ? 1 : (sCdf[b] as number));
  const cdf = (t: number): number => {
    if (t < 0) return 0;
    const k = Math.floor(t / service);
    const bound = (k + 1) * servers - 1;
    if (bound >= s.length + 200 * servers) return sAtMost(bound);
    // N ≤ reach but for 1e-18, so only the last `reach` values of S need the Poisson's CDF.
    const n = poissonCdf(lambda * (service - (t - k * service)), Math.min(bound, reach));
    const from = Math.max(0, bound - reach);
    let p = from > 0 ? sAtMost(from - 1) : 0;
    for (let j = from; j <= Math.min(bound, s.length - 1); j++) p += (s[j] as number) * (n[bound - j] as number);
    return Math.min(1, p);
  };
  const quantile = (q: number): number => {
    assertQuantile(q);
    if (cdf(0) >= q) return 0;
    let k = 0; // P(W ≤ (k+1)D) = P(S ≤ (k+1)c - 1): the first period that reaches q
    while (sAtMost((k + 1) * servers - 1) < q) k++;
    let lo = k * service;
    let hi = (k + 1) * service;
    for (let i = 0; i < 200 && hi - lo > 1e-13 * hi; i++) {
      const mid = (lo + hi) / 2;
      if (cdf(mid) >= q) hi = mid;
      else lo = mid;
    }
    return hi;
  };
  return { probWait: 1 - cdf(0), meanWait: meanOf(cdf, service), cdf, quantile };
}

/** E[W] = ∫ P(W > t) dt, by Simpson on each period of D (the tail is smooth within one). */
function meanOf(cdf: (t: number) => number, period: number): number {
  const panels = 32;
  const h = period / panels;
  let total = 0;
  for (let k = 0; k < 1e6; k++) {
    const base = k * period;
    let part = 0;
    for (let i = 0; i <= panels; i++) {
      const w = i === 0 || i === panels ? 1 : i % 2 === 1 ? 4 : 2;
      part += w * (1 - cdf(base + i * h));
    }
    total += (part * h) / 3;
    if (1 - cdf(base + period) < 1e-14) break;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// Discrete-event simulation.

/** shared: one FIFO queue over c servers (a master); round-robin: c queues fed in turn (replicas
 * behind nginx's default); least-conn: each arrival to the queue with the fewest requests in it. */
export type Discipline = "shared" | "round-robin" | "least-conn";
export const DISCIPLINES: readonly Discipline[] = ["shared", "round-robin", "least-conn"];

/** The lab's open-model arrivals: evenly spaced, or Poisson (exponential gaps). */
export type Arrivals = "uniform" | "poisson";

/**
 * A service time, ms: a constant (fib(n) on an idle core), exponential (to check the simulator
 * against M/M/c), or drawn uniformly from measured values (empiricalService()).
 */
export type ServiceTime = number | { readonly exponentialMeanMs: number } | { readonly samplesMs: readonly number[] };

export interface SimulationInput {
  /** Offered rate, requests per second. */
  rate: number;
  serviceMs: ServiceTime;
  servers: number;
  discipline: Discipline;
  arrivals: Arrivals;
  seed: number;
  /** Requests simulated, warm-up included: the bound on the work (at most MAX_REQUESTS). */
  requests: number;
  /** Share of the first requests left out of the statistics (the queue starts empty); default 0.1. */
  warmup?: number;
}

/** Milliseconds. Percentiles are nearest-rank, as HdrHistogram reports them. */
export interface LatencyStats {
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}

export interface QueueSummary {
  /** Requests the statistics cover (0 for an analytic model). */
  requests: number;
  wait: LatencyStats;
  /** Wait plus service: what the lab measures. */
  response: LatencyStats;
  /** Share of requests that waited at all. */
  probWait: number;
  /** Busy share of the servers: simulated, or the offered load for the analytic models. */
  utilisation: number;
}

export const MAX_REQUESTS = 5_000_000;

export function meanServiceMs(service: ServiceTime): number {
  if (typeof service === "number") return service;
  if ("exponentialMeanMs" in service) return service.exponentialMeanMs;
  if (service.samplesMs.length === 0) throw new RangeError("no service time samples");
  return service.samplesMs.reduce((a, b) => a + b, 0) / service.samplesMs.length;
}

function serviceSampler(service: ServiceTime, random: () => number): () => number {
  if (typeof service === "number") {
    assertPositive("service time", service);
    return () => service;
  }
  if ("exponentialMeanMs" in service) {
    assertPositive("mean service time", service.exponentialMeanMs);
    return () => exponential(random, service.exponentialMeanMs);
  }
  const samples = service.samplesMs;
  if (samples.length === 0 || samples.some((s) => !(s >= 0))) throw new RangeError("service samples must be ≥ 0");
  return () => samples[Math.floor(random() * samples.length)] as number;
}

/** Picks the queue for each arrival; told when the request it placed will leave. */
interface Router {
  pick(index: number, now: number, free: Float64Array): number;
  placed(queue: number, departure: number): void;
}

function router(discipline: Discipline, servers: number): Router {
  if (discipline === "round-robin") return { pick: (i) => i % servers, placed: () => undefined };
  if (discipline === "shared") {
    // FIFO over c servers: each request in arrival order takes the server that frees first.
    const pick = (_i: number, _now: number, free: Float64Array) => {
      let best = 0;
      for (let k = 1; k < servers; k++) if ((free[k] as number) < (free[best] as number)) best = k;
      return best;
    };
    return { pick, placed: () => undefined };
  }
  // least-conn: departures per queue leave in order, so a queue's count is its pending departures.
  const departures: number[][] = Array.from({ length: servers }, () => []);
  const heads = new Array<number>(servers).fill(0);
  let next = 0; // ties go round-robin, as nginx's least_conn does
  const count = (k: number, now: number) => {
    const d = departures[k] as number[];
    let h = heads[k] as number;
    while (h < d.length && (d[h] as number) <= now) h++;
    if (h > 4096) {
      d.splice(0, h);
      h = 0;
    }
    heads[k] = h;
    return d.length - h;
  };
  const pick = (_i: number, now: number) => {
    let best = next;
    let fewest = Infinity;
    for (let o = 0; o < servers; o++) {
      const k = (next + o) % servers;
      const n = count(k, now);
      if (n < fewest) [best, fewest] = [k, n];
    }
    next = (best + 1) % servers;
    return best;
  };
  return { pick, placed: (k, departure) => (departures[k] as number[]).push(departure) };
}

function checkSimulation(o: SimulationInput): void {
  assertPositive("rate", o.rate);
  if (!Number.isInteger(o.servers) || o.servers < 1) throw new RangeError(`servers must be an integer ≥ 1, got ${o.servers}`);
  if (!Number.isInteger(o.requests) || o.requests < 10 || o.requests > MAX_REQUESTS)
    throw new RangeError(`requests must be an integer in [10, ${MAX_REQUESTS}], got ${o.requests}`);
  const warmup = o.warmup ?? 0.1;
  if (!(warmup >= 0 && warmup < 1)) throw new RangeError(`warmup must be in [0, 1), got ${warmup}`);
  if (!DISCIPLINES.includes(o.discipline)) throw new RangeError(`unknown discipline ${String(o.discipline)}`);
  if (o.arrivals !== "poisson" && o.arrivals !== "uniform") throw new RangeError(`unknown arrivals ${String(o.arrivals)}`);
}

/**
 * Simulates the requests one by one in arrival order: with FIFO queues a request's start is
 * fixed when it arrives, so no event list is needed. Arrivals and service times come from two
 * streams of the seed, so every discipline sees the same requests (common random numbers:
 * their differences are not noise). Deterministic for a seed.
 */
export function simulate(o: SimulationInput): QueueSummary {
  checkSimulation(o);
  const arrivalsRandom = mulberry32(o.seed);
  const draw = serviceSampler(o.serviceMs, mulberry32((o.seed ^ 0x9e3779b9) >>> 0));
  const gap = 1000 / o.rate;
  const route = router(o.discipline, o.servers);
  const free = new Float64Array(o.servers);
  const skip = Math.floor(o.requests * (o.warmup ?? 0.1));
  const waits = new Float64Array(o.requests - skip);
  const responses = new Float64Array(o.requests - skip);
  let now = 0;
  let busy = 0;
  let firstMeasured = 0;
  for (let i = 0; i < o.requests; i++) {
    now = o.arrivals === "poisson" ? now + exponential(arrivalsRandom, gap) : i * gap;
    const service = draw();
    const k = route.pick(i, now, free);
    const start = Math.max(now, free[k] as number);
    free[k] = start + service;
    route.placed(k, start + service);
    if (i < skip) continue;
    if (i === skip) firstMeasured = now;
    waits[i - skip] = start - now;
    responses[i - skip] = start - now + service;
    busy += service;
  }
  const span = now - firstMeasured + gap;
  return {
    requests: waits.length,
    wait: latencyStats(waits),
    response: latencyStats(responses),
    probWait: waits.reduce((n, w) => (w > 0 ? n + 1 : n), 0) / waits.length,
    utilisation: busy / (o.servers * span),
  };
}

/**
 * Puts the k-th smallest of a[lo..hi] at a[k], smaller ones before it (Hoare's quickselect): four
 * percentiles in linear time, where sorting a million doubles would dominate the simulation.
 */
function select(a: Float64Array, k: number, lo: number, hi: number): void {
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1] as number;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((a[i] as number) < pivot) i++;
      while ((a[j] as number) > pivot) j--;
      if (i <= j) {
        const t = a[i] as number;
        a[i++] = a[j] as number;
        a[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

/** Nearest rank: the least value with at least p% of the sample at or below it. */
function latencyStats(values: Float64Array): LatencyStats {
  const a = values.slice();
  let from = 0;
  const rank = (percentile: number) => {
    const k = Math.max(1, Math.ceil((percentile / 100) * a.length)) - 1;
    select(a, k, from, a.length - 1);
    from = k; // everything before k is ≤ a[k]: the next, higher percentile lies at or after it
    return a[k] as number;
  };
  let sum = 0;
  for (const v of values) sum += v;
  return { mean: sum / values.length, p50: rank(50), p90: rank(90), p99: rank(99), p999: rank(99.9) };
}

/**
 * A service-time sample from measured percentiles (say fib(n) alone on a worker, from a
 * histogram's summary): the quantile function drawn linearly between the points given.
 */
export function empiricalService(
  summary: { min?: number; p50: number; p90?: number; p99?: number; p999?: number; max?: number },
  count = 1000,
): { samplesMs: number[] } {
  const points: [number, number][] = [];
  const add = (p: number, v: number | undefined) => (v === undefined ? undefined : points.push([p / 100, v]));
  add(0, summary.min ?? summary.p50);
  add(50, summary.p50);
  add(90, summary.p90);
  add(99, summary.p99);
  add(99.9, summary.p999);
  add(100, summary.max ?? summary.p999 ?? summary.p99 ?? summary.p90 ?? summary.p50);
  const samplesMs: number[] = [];
  for (let i = 0; i < count; i++) {
    const q = (i + 0.5) / count;
    const hi = points.findIndex(([p]) => p >= q);
    const [p1, v1] = points[hi] as [number, number];
    const [p0, v0] = points[Math.max(0, hi - 1)] as [number, number];
    samplesMs.push(p1 === p0 ? v1 : v0 + ((v1 - v0) * (q - p0)) / (p1 - p0));
  }
  return { samplesMs };
}

// ---------------------------------------------------------------------------------------------
// A prediction for a cell, and the measurement beside it.

export interface PredictInput {
  /** Offered rate, requests per second. */
  rate: number;
  serviceMs: ServiceTime;
  servers: number;
  discipline: Discipline;
  arrivals: Arrivals;
  /** For the simulator; default 1. */
  seed?: number;
  /** For the simulator; default 200 000. */
  requests?: number;
}

export type Prediction =
  | (QueueSummary & { stable: true; model: string; method: "analytic" | "simulation"; offeredLoad: number })
  | { stable: false; model: string; offeredLoad: number };

/** Kendall's notation for the cell: arrivals/service/servers, and the layout. */
export function modelName(o: Pick<PredictInput, "serviceMs" | "servers" | "discipline" | "arrivals">): string {
  const s = typeof o.serviceMs === "number" ? "D" : "exponentialMeanMs" in o.serviceMs ? "M" : "G";
  const a = o.arrivals === "poisson" ? "M" : "D";
  if (o.servers === 1) return `${a}/${s}/1`;
  if (o.discipline === "shared") return `${a}/${s}/${o.servers}`;
  if (o.discipline === "least-conn") return `${a}/${s}/${o.servers} least-conn`;
  const each = o.arrivals === "poisson" ? `E${o.servers}` : "D";
  return `${o.servers}×${each}/${s}/1 round-robin`;
}

function fromExact(
  w: { probWait: number; meanWait: number; quantile(q: number): number },
  response: (q: number) => number,
  meanService: number,
  load: number,
): QueueSummary {
  const at = (f: (q: number) => number, mean: number): LatencyStats => ({
    mean,
    p50: f(0.5),
    p90: f(0.9),
    p99: f(0.99),
    p999: f(0.999),
  });
  return {
    requests: 0,
    wait: at((q) => w.quantile(q), w.meanWait),
    response: at(response, w.meanWait + meanService),
    probWait: w.probWait,
    utilisation: load,
  };
}

/** The exact model of the cell, or null where only the simulator can say. */
function analytic(o: PredictInput, load: number): QueueSummary | null {
  if (o.arrivals !== "poisson") return null;
  const lambda = o.rate / 1000; // per ms
  const shared = o.discipline === "shared" || o.servers === 1;
  if (typeof o.serviceMs === "number" && (shared || o.discipline === "round-robin")) {
    // Round-robin gives every request the same wait as one queue when service is constant (top).
    const d = o.serviceMs;
    try {
      const w = mdc(lambda, d, o.servers);
      return fromExact(w, (q) => w.quantile(q) + d, d, load);
    } catch (e) {
      if (e instanceof RangeError) return null; // too close to 1 for the exact form
      throw e;
    }
  }
  if (typeof o.serviceMs !== "number" && "exponentialMeanMs" in o.serviceMs && shared) {
    const m = mmc(lambda, 1 / o.serviceMs.exponentialMeanMs, o.servers);
    return fromExact(
      { probWait: m.probWait, meanWait: m.meanWait, quantile: m.waitQuantile },
      m.responseQuantile,
      o.serviceMs.exponentialMeanMs,
      load,
    );
  }
  return null;
}

/**
 * The prediction for a cell: exact where a formula exists, otherwise the seeded simulation of
 * the same arrivals and service times. An offered load ≥ 1 has no steady state to predict.
 */
export function predict(o: PredictInput): Prediction {
  const model = modelName(o);
  const offeredLoad = ((o.rate / 1000) * meanServiceMs(o.serviceMs)) / o.servers;
  if (!(offeredLoad < 1)) return { stable: false, model, offeredLoad };
  const exact = analytic(o, offeredLoad);
  if (exact) return { ...exact, stable: true, model, method: "analytic", offeredLoad };
  const sim = simulate({ ...o, seed: o.seed ?? 1, requests: o.requests ?? 200_000 });
  return { ...sim, stable: true, model, method: "simulation", offeredLoad };
}

export interface ModelComparison {
  /** Measured over predicted response time; null without a steady state. */
  p50Ratio: number | null;
  p99Ratio: number | null;
  text: string;
}

const ratio = (r: number) => `${r.toPrecision(2)}×`;
const ms = (v: number) => `${v.toPrecision(3)} ms`;

/** A measured response time beside the model: "measured p99 1.8× the M/D/2 prediction (…)". */
export function compareToModel(measured: { p50: number; p99: number }, predicted: Prediction): ModelComparison {
  if (!predicted.stable) {
    return {
      p50Ratio: null,
      p99Ratio: null,
      text: `offered load ${predicted.offeredLoad.toFixed(2)} of capacity: the ${predicted.model} model has no steady state`,
    };
  }
  const p50Ratio = measured.p50 / predicted.response.p50;
  const p99Ratio = measured.p99 / predicted.response.p99;
  const text =
    `measured p99 ${ratio(p99Ratio)} the ${predicted.model} prediction ` +
    `(${ms(measured.p99)} vs ${ms(predicted.response.p99)}), p50 ${ratio(p50Ratio)} ` +
    `(${ms(measured.p50)} vs ${ms(predicted.response.p50)})`;
  return { p50Ratio, p99Ratio, text };
}
