import { WeightedCycle } from "./mix.js";

/**
 * The open model's precomputed schedule: request i is intended at startAt + (i + offset) / rate,
 * for every such time before endAt, goes to connection i mod connections, and asks for mix entry
 * mixIndex[i] (smooth weighted round robin). Latency is measured from times[i], whenever the
 * request could actually be sent.
 */
export interface OpenSchedule {
  /** Intended send times, epoch ms, ascending. */
  times: Float64Array;
  /** Index into the mix of each request. */
  mixIndex: Uint16Array;
  connections: number;
  intervalMs: number;
}

export interface ScheduleOptions {
  /** Requests per second of this client. */
  rate: number;
  startAt: number;
  endAt: number;
  connections: number;
  weights: readonly number[];
  /**
   * Fraction of one interval to shift this client's sends by, in [0, 1): client k of n uses k/n
   * so that a fleet interleaves its sends instead of firing them all at the same instants.
   */
  offset?: number;
}

/** Hard ceiling so a typo in RATE cannot eat the container's memory (12 bytes a request). */
export const MAX_SCHEDULED = 50_000_000;

export function buildOpenSchedule(o: ScheduleOptions): OpenSchedule {
  if (!(o.rate > 0) || !Number.isFinite(o.rate)) throw new Error(`rate must be > 0, got ${o.rate}`);
  if (!Number.isInteger(o.connections) || o.connections < 1) throw new Error(`connections must be >= 1, got ${o.connections}`);
  const offset = o.offset ?? 0;
  if (offset < 0 || offset >= 1) throw new Error(`offset must be in [0, 1), got ${offset}`);
  const intervalMs = 1000 / o.rate;
  const span = o.endAt - o.startAt;
  const count = Math.max(0, Math.ceil(span / intervalMs - offset - 1e-9));
  if (count > MAX_SCHEDULED) throw new Error(`schedule of ${count} requests is over ${MAX_SCHEDULED}`);
  const times = new Float64Array(count);
  const mixIndex = new Uint16Array(count);
  const cycle = new WeightedCycle(o.weights);
  for (let i = 0; i < count; i++) {
    times[i] = o.startAt + (i + offset) * intervalMs;
    mixIndex[i] = cycle.next();
  }
  return { times, mixIndex, connections: o.connections, intervalMs };
}

/** Connection of request i. */
export function connectionOf(s: OpenSchedule, i: number): number {
  return i % s.connections;
}
