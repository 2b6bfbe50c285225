import { readFileSync, writeFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { now } from "./recorder.js";

/**
 * Punctual wake-ups for the open model, without spinning the event loop.
 *
 * Node's timers have 1 ms granularity and fire 0-2 ms late; pacing sends with them added that
 * lateness to every latency (latency runs from the intended time). Spinning the event loop
 * (setImmediate) is punctual but eats a core at any rate, and a container at 0.5-1 cpu then gets
 * throttled, which is worse than the lateness. So a small worker thread keeps the time: it walks
 * the schedule (shared memory), sleeps on a futex (Atomics.wait) until shortly before the next
 * intended send (such a sleep ends late by the kernel's timer slack, which we lower to 1 µs
 * where Linux allows it, plus scheduling; the worker learns by how much), spins the rest, and
 * wakes the main thread with a message `lead` ms ahead of the due time (lead adapts to the
 * measured wake-up delay of the main thread). The main thread sleeps in the event loop as usual,
 * so replies are read and timestamped the moment they arrive; woken slightly early, it spins the
 * few µs left (see TcpClient.pump).
 *
 * At most one wake-up is outstanding: while the main thread has not taken the last one, the
 * worker skips sends that fall due (the main thread sends everything due when it runs). While the
 * main thread is blocked (due requests but no free connection: it sends on replies instead), the
 * worker sleeps until unblocked.
 */

/** The worker's source (plain CommonJS, evaluated: no file to resolve from src or dist). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { ctl, times, clockOffset } = workerData;
const f = new Float64Array(ctl, 0, 2); // [lead ms, time of the last post]
const s = new Int32Array(ctl, 16, 2); // [state: 0 run, 1 blocked, 2 stop; wake-up outstanding]
const now = () => { const [sec, ns] = process.hrtime(); return sec * 1e3 + ns / 1e6 + clockOffset; };
parentPort.postMessage("ready");
// How late a futex sleep ends (timer slack, scheduling), learnt as we go: sleep until that long
// (plus a margin) before the target, spin the rest.
let overshoot = workerData.overshoot;
const MIN_GAP = 0.08;
let lastPost = -Infinity;
let i = 0;
for (;;) {
  const st = Atomics.load(s, 0);
  if (st === 2 || i >= times.length) break;
  if (st === 1) { Atomics.wait(s, 0, 1); continue; }
  const lead = f[0];
  // At most one wake-up per MIN_GAP: above ~12k req/s sends go out in small batches (lag within
  // MIN_GAP) instead of waking the main thread for every one of them.
  const target = Math.max(times[i] - lead, lastPost + MIN_GAP);
  const spin = Math.min(0.3, overshoot + 0.01);
  let t = now();
  if (target - t > spin) {
    const ask = target - t - spin;
    if (Atomics.wait(s, 0, 0, ask) === "timed-out") {
      // A running median (2 µs steps): the systematic lateness of the sleep. Spinning cannot win
      // back preemption on a busy host, and a mean would learn that and spin ever longer.
      overshoot = Math.min(0.2, Math.max(0, overshoot + (now() - t - ask > overshoot ? 0.002 : -0.002)));
    }
    continue;
  }
  while (t < target && Atomics.load(s, 0) === 0) t = now();
  if (Atomics.load(s, 0) !== 0) continue;
  if (Atomics.compareExchange(s, 1, 0, 1) === 0) { f[1] = t; lastPost = t; parentPort.postMessage(0); }
  // Everything due by the time the main thread runs is sent on this wake-up (or the one pending).
  const by = t + lead;
  do i++; while (i < times.length && times[i] <= by);
}
`;

/**
 * now() - hrtime (both read the same monotonic clock): the worker's clock, in our epoch ms. Taken
 * from the tightest of a few paired readings (a cold first call can take tens of µs).
 */
function clockOffset(): number {
  const hr = () => {
    const [sec, ns] = process.hrtime();
    return sec * 1e3 + ns / 1e6;
  };
  let best = Infinity;
  let off = 0;
  for (let k = 0; k < 20; k++) {
    const a = now();
    const h = hr();
    const b = now();
    if (b - a < best) {
      best = b - a;
      off = (a + b) / 2 - h;
    }
  }
  return off;
}

/**
 * Linux lets a thread shorten its own timer slack, the time the kernel may defer a timed sleep's
 * wake-up by to batch it with others (50 µs by default): at 1 µs a futex sleep ends ~10 µs late
 * instead of ~60, so the worker spins ~25 µs per send instead of ~75. Written for the main thread
 * (/proc/self is the thread-group leader; no capability is needed for oneself) before the worker
 * starts, which inherits it. Returns the slack in µs, or undefined where /proc does not allow it.
 */
function lowerTimerSlack(): number | undefined {
  try {
    writeFileSync("/proc/self/timerslack_ns", "1000");
  } catch {
    // not Linux, or not allowed: keep the default
  }
  try {
    return Number(readFileSync("/proc/self/timerslack_ns", "utf8").trim()) / 1000;
  } catch {
    return undefined;
  }
}

export interface MetronomeStats {
  /** Wake-ups delivered to the main thread. */
  wakes: number;
  /** Current lead, ms. */
  leadMs: number;
}

export class Metronome {
  private readonly worker: Worker;
  private readonly f: Float64Array;
  private readonly s: Int32Array;
  private blocked = false;
  private stopped = false;
  wakes = 0;
  /** The thread has booted and walks the schedule. */
  ready = false;
  /** The timer slack the thread runs with, µs (undefined: unknown, the kernel's default is 50). */
  readonly timerSlackUs: number | undefined;

  /** `times`: the schedule (must be backed by a SharedArrayBuffer); `onTick` runs on the main thread. */
  constructor(
    times: Float64Array,
    private readonly onTick: () => void,
  ) {
    if (!(times.buffer instanceof SharedArrayBuffer)) throw new Error("metronome: the schedule must live in a SharedArrayBuffer");
    const ctl = new SharedArrayBuffer(32);
    this.f = new Float64Array(ctl, 0, 2);
    this.s = new Int32Array(ctl, 16, 2);
    this.f[0] = 0.02;
    this.timerSlackUs = lowerTimerSlack();
    const overshoot = this.timerSlackUs !== undefined && this.timerSlackUs <= 5 ? 0.015 : 0.065;
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ctl, times, clockOffset: clockOffset(), overshoot } });
    this.worker.unref();
    this.worker.on("message", (m) => (m === "ready" ? (this.ready = true) : this.tick()));
    this.worker.on("error", (e) => {
      // The main thread's backstop timer keeps the run going, only less punctually.
      process.stderr.write(`metronome thread failed: ${e.message}\n`);
    });
  }

  private tick(): void {
    const t = now();
    Atomics.store(this.s, 1, 0);
    if (this.stopped) return;
    this.wakes++;
    // Lead: a running median of the main thread's wake-up delay (2 µs steps, at most 50 µs), so
    // half the wake-ups come early (we spin the few µs left) and half late.
    const lead = this.f[0]!;
    this.f[0] = Math.min(0.05, Math.max(0, lead + (t - this.f[1]! > lead ? 0.002 : -0.002)));
    this.onTick();
  }

  get leadMs(): number {
    return this.f[0]!;
  }

  /** Blocked: due requests wait for a free connection; no wake-ups until unblocked. */
  setBlocked(blocked: boolean): void {
    if (blocked === this.blocked || this.stopped) return;
    this.blocked = blocked;
    Atomics.store(this.s, 0, blocked ? 1 : 0);
    Atomics.notify(this.s, 0);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    Atomics.store(this.s, 0, 2);
    Atomics.notify(this.s, 0);
    void this.worker.terminate();
  }
}
