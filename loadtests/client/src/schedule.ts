import type { Arrivals } from "../../contract/env.js";
import { exponential, mulberry32 } from "../../contract/random.js";
import { WeightedCycle } from "./mix.js";

/**
 * The open model's precomputed schedule of intended send times, and the mix entry of each
 * request (smooth weighted round robin). Latency is measured from times[i], whenever the request
 * could actually be sent; which connection carries it is decided at send time (a free one).
 *
 * - uniform: request i is intended at startAt + (i + offset) / rate, for every such time before
 *   endAt (a fleet's clients interleave through their offsets).
 * - poisson: exponential gaps of mean 1 / rate from startAt, drawn with mulberry32(seed); each
 *   client has its own seed, and independent Poisson processes add up to one at the group's rate.
 *
 * `times` lives in a SharedArrayBuffer so the metronome thread reads it without a copy.
 */
export interface OpenSchedule {
  /** Intended send times, epoch ms, ascending. */
  times: Float64Array;
  /** Index into the mix of each request. */
  mixIndex: Uint16Array;
  /** Mean gap, ms. */
  intervalMs: number;
  arrivals: Arrivals;
}

export interface ScheduleOptions {
  /** Requests per second of this client. */
  rate: number;
  startAt: number;
  endAt: number;
  weights: readonly number[];
  /** uniform (default) or poisson. */
  arrivals?: Arrivals;
  /** poisson: the seed of the draw. */
  seed?: number;
  /**
   * uniform: fraction of one interval to shift this client's sends by, in [0, 1): client k of n
   * uses k/n so that a fleet interleaves its sends instead of firing them all at the same instants.
   */
  offset?: number;
}

/** Hard ceiling so a typo in RATE cannot eat the container's memory (10 bytes a request). */
export const MAX_SCHEDULED = 50_000_000;

function sharedTimes(count: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(Math.max(1, count) * 8), 0, count);
}

export function buildOpenSchedule(o: ScheduleOptions): OpenSchedule {
  if (!(o.rate > 0) || !Number.isFinite(o.rate)) throw new Error(`rate must be > 0, got ${o.rate}`);
  const offset = o.offset ?? 0;
  if (offset < 0 || offset >= 1) throw new Error(`offset must be in [0, 1), got ${offset}`);
  const arrivals = o.arrivals ?? "uniform";
  const intervalMs = 1000 / o.rate;
  const span = o.endAt - o.startAt;
  const cycle = new WeightedCycle(o.weights);
  if (arrivals === "poisson") {
    const expected = Math.max(0, span / intervalMs);
    if (expected > MAX_SCHEDULED) throw new Error(`schedule of ~${Math.round(expected)} requests is over ${MAX_SCHEDULED}`);
    const random = mulberry32(o.seed ?? 1);
    const list: number[] = [];
    for (let t = o.startAt + exponential(random, intervalMs); t < o.endAt; t += exponential(random, intervalMs)) {
      list.push(t);
      if (list.length > MAX_SCHEDULED) throw new Error(`schedule is over ${MAX_SCHEDULED} requests`);
    }
    const times = sharedTimes(list.length);
    times.set(list);
    const mixIndex = new Uint16Array(list.length);
    for (let i = 0; i < list.length; i++) mixIndex[i] = cycle.next();
    return { times, mixIndex, intervalMs, arrivals };
  }
  if (arrivals !== "uniform") throw new Error(`arrivals must be uniform or poisson, got ${String(arrivals)}`);
  const count = Math.max(0, Math.ceil(span / intervalMs - offset - 1e-9));
  if (count > MAX_SCHEDULED) throw new Error(`schedule of ${count} requests is over ${MAX_SCHEDULED}`);
  const times = sharedTimes(count);
  const mixIndex = new Uint16Array(count);
  for (let i = 0; i < count; i++) {
    times[i] = o.startAt + (i + offset) * intervalMs;
    mixIndex[i] = cycle.next();
  }
  return { times, mixIndex, intervalMs, arrivals };
}
