import hdr from "hdr-histogram-js";
import { HISTOGRAM_SETTINGS } from "../../contract/env.js";
import type { ClientResult, Interval } from "../../contract/result.js";

/** Epoch milliseconds with sub-millisecond resolution, monotonic (never steps with the wall clock). */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export function sleepUntil(t: number): Promise<void> {
  const ms = t - now();
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}

/** The contract's settings, so the orchestrator can merge what every client recorded. */
export function newHistogram() {
  return hdr.build(HISTOGRAM_SETTINGS);
}

export interface Window {
  /** Warm-up and load start (epoch ms). */
  startAt: number;
  /** Measurement window [measureStart, measureEnd), epoch ms. */
  measureStart: number;
  measureEnd: number;
}

export function windowOf(startAt: number, warmupMs: number, durationMs: number): Window {
  return { startAt, measureStart: startAt + warmupMs, measureEnd: startAt + warmupMs + durationMs };
}

export interface Progress {
  /** Epoch ms. */
  t: number;
  phase: "wait" | "warmup" | "measure" | "drain";
  /** Replies (any) per second since the previous line. */
  rps: number;
  /** Measured so far (warm-up excluded). */
  sent: number;
  ok: number;
  errors: number;
  dropped: number;
}

/** One second of the window: ok count, errors by kind, ok latencies, replies per X-Worker. */
interface IntervalCounts {
  ok: number;
  errors: Record<string, number>;
  histogram: ReturnType<typeof newHistogram>;
  workers: Record<string, number>;
}

/**
 * Counts of one client. A request belongs to the measurement when its start time (open model:
 * the intended send time; closed model: the actual send time) falls in the window, whenever its
 * reply comes; everything else is warm-up (or after the end) and only shows in the live rate.
 */
export class Recorder {
  readonly histogram = newHistogram();
  sent = 0;
  completed = 0;
  ok = 0;
  dropped = 0;
  readonly errors: Record<string, number> = {};
  readonly workers: Record<string, number> = {};
  readonly notes: string[] = [];
  /** Replies of every phase, for the live rate. */
  replies = 0;
  private lastReplies = 0;
  private lastT: number;
  /** Largest lateness of an actual send behind its intended time (open model), ms. */
  maxSendLagMs = 0;
  /** Open model: how late each measured send left behind its intended time, µs (in the result as sendLag). */
  readonly sendLag = newHistogram();
  /** Set by a tool that knows its intended send times (the tcp open model): the result carries sendLag. */
  tracksSendLag = false;
  /** Per second of the window, by index from measureStart (created on first use). */
  private readonly seconds: (IntervalCounts | undefined)[] = [];

  constructor(readonly window: Window) {
    this.lastT = window.startAt;
  }

  measured(t: number): boolean {
    return t >= this.window.measureStart && t < this.window.measureEnd;
  }

  private bump(map: Record<string, number>, key: string) {
    map[key] = (map[key] ?? 0) + 1;
  }

  /** The second of the window that t falls in (t must be measured). */
  private second(t: number): IntervalCounts {
    const i = Math.floor((t - this.window.measureStart) / 1000);
    let s = this.seconds[i];
    if (!s) {
      s = { ok: 0, errors: {}, histogram: newHistogram(), workers: {} };
      this.seconds[i] = s;
    }
    return s;
  }

  private error(t: number, kind: string): void {
    this.bump(this.errors, kind);
    this.bump(this.second(t).errors, kind);
  }

  onSent(start: number): void {
    if (this.measured(start)) this.sent++;
  }

  /** A correct reply: its latency, end - start, goes into the histogram in µs. */
  onOk(start: number, end: number, worker?: string): void {
    this.replies++;
    if (!this.measured(start)) return;
    this.completed++;
    this.ok++;
    const us = Math.max(1, Math.round((end - start) * 1000));
    this.histogram.recordValue(us);
    const s = this.second(start);
    s.ok++;
    s.histogram.recordValue(us);
    if (worker) {
      this.bump(this.workers, worker);
      this.bump(s.workers, worker);
    }
  }

  /** A reply came but it was wrong (error line, bad status, wrong value). */
  onBadReply(start: number, kind: string, worker?: string): void {
    this.replies++;
    if (!this.measured(start)) return;
    this.completed++;
    this.error(start, kind);
    if (worker) {
      this.bump(this.workers, worker);
      this.bump(this.second(start).workers, worker);
    }
  }

  /** A request that was sent but will never get its reply (reset, closed, timeout). */
  onLost(start: number, kind: string): void {
    if (this.measured(start)) this.error(start, kind);
  }

  /** An error tied to no request (a failed connect), counted when it happens in the window. */
  onError(kind: string, t = now()): void {
    if (this.measured(t)) this.error(t, kind);
  }

  /** Open model: an intended send that could not be made before the end. */
  onDropped(intended: number): void {
    if (this.measured(intended)) this.dropped++;
  }

  /** Open model: a send made lagMs after its intended time. */
  onSendLag(intended: number, lagMs: number): void {
    if (lagMs > this.maxSendLagMs) this.maxSendLagMs = lagMs;
    if (this.measured(intended)) this.sendLag.recordValue(Math.max(0, Math.round(lagMs * 1000)));
  }

  /** Every second of the window (the last one may be partial), empty ones included. */
  intervals(): Interval[] {
    const w = this.window;
    const n = Math.max(0, Math.ceil((w.measureEnd - w.measureStart) / 1000 - 1e-9));
    const out: Interval[] = [];
    for (let i = 0; i < n; i++) {
      const s = this.seconds[i];
      out.push({
        t: Math.round(w.measureStart + i * 1000),
        ok: s?.ok ?? 0,
        errors: { ...(s?.errors ?? {}) },
        histogram: hdr.encodeIntoCompressedBase64(s?.histogram ?? newHistogram()),
        ...(s && Object.keys(s.workers).length > 0 ? { workers: { ...s.workers } } : {}),
      });
    }
    return out;
  }

  progress(t = now(), draining = false): Progress {
    const dt = Math.max(1e-3, (t - this.lastT) / 1000);
    const rps = (this.replies - this.lastReplies) / dt;
    this.lastReplies = this.replies;
    this.lastT = t;
    const w = this.window;
    const phase = draining ? "drain" : t < w.startAt ? "wait" : t < w.measureStart ? "warmup" : t < w.measureEnd ? "measure" : "drain";
    let errors = 0;
    for (const v of Object.values(this.errors)) errors += v;
    return { t: Math.round(t), phase, rps: Math.round(rps * 10) / 10, sent: this.sent, ok: this.ok, errors, dropped: this.dropped };
  }

  result(meta: Pick<ClientResult, "tool" | "loadModel" | "group" | "clientIndex">): ClientResult {
    return {
      ...meta,
      startedAt: Math.round(this.window.measureStart),
      endedAt: Math.round(this.window.measureEnd),
      requests: { sent: this.sent, completed: this.completed, ok: this.ok },
      errors: { ...this.errors },
      dropped: this.dropped,
      histogram: hdr.encodeIntoCompressedBase64(this.histogram),
      ...(this.tracksSendLag ? { sendLag: hdr.encodeIntoCompressedBase64(this.sendLag) } : {}),
      intervals: this.intervals(),
      workers: { ...this.workers },
      notes: [...this.notes],
    };
  }
}
