import net from "node:net";
import type { Arrivals } from "../../contract/env.js";
import { Fifo } from "./fifo.js";
import { Metronome } from "./metronome.js";
import { checkTcpReply, WeightedCycle, type MixEntry } from "./mix.js";
import { now, sleepUntil, type Recorder } from "./recorder.js";
import { buildOpenSchedule, type OpenSchedule } from "./schedule.js";

/**
 * The TCP load client for the line protocol ("n\n" → "fib(n)\n", replies in request order).
 *
 * Open model: a precomputed schedule of intended send times (uniform or seeded Poisson arrivals)
 * at `rate`. The client's queue is the schedule itself: a request is due once its intended time
 * has come, and the next due request goes to the next FREE connection (connected, and below
 * `maxInflight` outstanding), round robin; a connection that is down or in reconnect backoff takes
 * none. With no free connection, due requests wait (O(1): an index into the schedule) and go out
 * as replies free connections. Latency runs from the INTENDED time, so a stall of the server shows
 * in full for every request that should have been sent during it (no coordinated omission), and
 * so does any lateness of the client itself: the metronome (metronome.ts) wakes the client within
 * tens of µs of each intended time, and each send's lateness is recorded as `sendLag`.
 *
 * Dropped: a request whose intended time is in the window and that is still unsent `timeoutMs`
 * after its intended time (the client gives up on it: it would have been late by a whole timeout
 * before leaving). Sends go on past the end of the window until every scheduled request is sent
 * or given up, so a request due in the last instant of the window is sent, never dropped.
 *
 * Closed model: `connections` × `pipelining` requests outstanding; each reply sends the next one
 * on its connection. Latency runs from the actual send.
 *
 * Errors, per request: reset, closed (peer closed with requests outstanding), error_reply,
 * wrong_answer; timeout: the oldest request of a connection got no reply within timeoutMs of its
 * send. Replies come in order, so the connection is then closed (and redone), and the requests
 * pipelined behind the timed-out one are lost BECAUSE OF THAT CLOSE, not timed out on their own
 * clocks: they count as `closed_behind_timeout`. Per failed connect attempt: connect. Warm-up
 * requests are excluded by their start time.
 */
export interface TcpOptions {
  host: string;
  port: number;
  model: "open" | "closed";
  /** Open: requests per second of this client. */
  rate?: number;
  /** Open: uniform (default) or poisson. */
  arrivals?: Arrivals;
  /** Open, poisson: seed of the arrivals. */
  seed?: number;
  connections: number;
  /** Closed: requests outstanding per connection. */
  pipelining: number;
  /** Open: most requests outstanding per connection before later ones wait (default 1000). */
  maxInflight?: number;
  mix: readonly MixEntry[];
  /** A request without a reply this long after its send is a timeout. */
  timeoutMs: number;
  /** Open, uniform: fraction of one interval to shift the schedule by (client k of n: k/n). */
  offset?: number;
  /** How long to wait for the connections before the start, ms (default 5000). */
  connectTimeoutMs?: number;
  /** Open: pace sends with the metronome thread (default true); false: Node timers only (1 ms granularity). */
  precise?: boolean;
}

interface Req {
  /** Intended (open) or actual (closed) send time: latency runs from here. */
  start: number;
  sentAt: number;
  n: number;
}

interface Conn {
  id: number;
  sock: net.Socket | undefined;
  up: boolean;
  inflight: Fifo<Req>;
  /** Open model: lines to write at the end of this pump. */
  out: string;
  buf: string;
  retryMs: number;
  killedFor: string | undefined;
  lastErrorCode: string | undefined;
  retryTimer: NodeJS.Timeout | undefined;
}

function lostKind(code: string | undefined): string {
  if (code === "ECONNRESET" || code === "EPIPE") return "reset";
  if (code === "ETIMEDOUT") return "timeout";
  return "closed";
}

/** How far ahead of a due send the main thread, woken early by the metronome, spins for it (ms). */
const MAX_EARLY_SPIN_MS = 0.2;

export class TcpClient {
  private readonly conns: Conn[];
  private readonly rec: Recorder;
  private readonly o: TcpOptions;
  private readonly mixN: number[];
  private readonly cycle: WeightedCycle;
  private readonly maxInflight: number;
  /** Sends may begin (the start time has come). */
  private started = false;
  /** No new sends (closed: the end of the window has passed; open: every scheduled request was sent or given up). */
  private stopped = false;
  /** No reconnects either: tearing down. */
  private closing = false;
  private onIdle: (() => void) | undefined;
  /** Open model state. */
  private sched: OpenSchedule | undefined;
  /** Open: index of the first scheduled request not yet sent nor given up. */
  private next = 0;
  /** Open: round-robin cursor over the connections. */
  private cursor = 0;
  private metronome: Metronome | undefined;
  private openDone: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;
  /** Latest actual send (for the drain deadline). */
  private lastSendAt = 0;

  constructor(o: TcpOptions, rec: Recorder) {
    if (!Number.isInteger(o.connections) || o.connections < 1) throw new Error("connections must be >= 1");
    if (!Number.isInteger(o.pipelining) || o.pipelining < 1) throw new Error("pipelining must be >= 1");
    this.o = o;
    this.rec = rec;
    this.mixN = o.mix.map((e, i) => {
      if (e.n === null) throw new Error(`MIX[${i}] (${e.path}) is not a fib request; the TCP protocol only serves fib n`);
      return e.n;
    });
    this.cycle = new WeightedCycle(o.mix.map((e) => e.weight));
    this.maxInflight = o.model === "open" ? (o.maxInflight ?? 1000) : o.pipelining;
    this.conns = Array.from({ length: o.connections }, (_, id) => ({
      id,
      sock: undefined,
      up: false,
      inflight: new Fifo<Req>(),
      out: "",
      buf: "",
      retryMs: 50,
      killedFor: undefined,
      lastErrorCode: undefined,
      retryTimer: undefined,
    }));
  }

  /** Connects, waits for the start, runs to the end of the window, drains, closes. */
  async run(): Promise<void> {
    const w = this.rec.window;
    if (this.o.model === "open") {
      this.rec.tracksSendLag = true;
      this.sched = buildOpenSchedule({
        rate: this.o.rate ?? 0,
        startAt: w.startAt,
        endAt: w.measureEnd,
        weights: this.o.mix.map((e) => e.weight),
        arrivals: this.o.arrivals ?? "uniform",
        seed: this.o.seed,
        offset: this.o.arrivals === "poisson" ? 0 : (this.o.offset ?? 0),
      });
      // Started now, so the thread has booted (tens of ms, more on a busy host) by the start.
      if (this.o.precise !== false && this.sched.times.length > 0) {
        try {
          this.metronome = new Metronome(this.sched.times, () => this.pump(true));
        } catch (e) {
          this.rec.notes.push(
            `tcp open model: no metronome thread (${(e as Error).message}); sends paced by Node timers (1 ms granularity)`,
          );
        }
      }
    }
    let ticker: NodeJS.Timeout | undefined;
    try {
      await this.connectAll(Math.min(w.startAt, now() + (this.o.connectTimeoutMs ?? 5000)));
      // Open model: the schedule itself holds sends until their time; starting 2 ms early keeps the
      // timer's lateness off the first sends.
      await sleepUntil(w.startAt - (this.o.model === "open" ? 2 : 0));
      this.started = true;
      if (now() - w.startAt > 100) this.rec.notes.push(`tcp: started ${Math.round(now() - w.startAt)} ms after START_AT`);
      ticker = setInterval(() => this.checkTimeouts(), Math.max(10, Math.min(100, this.o.timeoutMs / 4)));
      if (this.o.model === "open") await this.runOpen();
      else await this.runClosed();
      await this.drain(Math.max(w.measureEnd, this.lastSendAt) + this.o.timeoutMs + 1000);
    } finally {
      if (ticker) clearInterval(ticker);
      this.stopOpen();
      this.close();
    }
    if (this.o.model === "open" && this.rec.maxSendLagMs > 10) {
      this.rec.notes.push(
        `tcp open model: the latest send was ${this.rec.maxSendLagMs.toFixed(1)} ms behind its intended time (counted in its latency)`,
      );
    }
  }

  private connectAll(deadline: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, deadline - now()));
      let pending = this.conns.length;
      const settle = () => {
        if (--pending === 0) {
          clearTimeout(timer);
          resolve();
        }
      };
      for (const c of this.conns) this.connect(c, settle);
    });
  }

  private connect(c: Conn, settled?: () => void): void {
    c.retryTimer = undefined;
    const sock = net.connect({ host: this.o.host, port: this.o.port, noDelay: true });
    c.sock = sock;
    c.lastErrorCode = undefined;
    sock.setNoDelay(true);
    sock.once("connect", () => {
      c.up = true;
      c.retryMs = 50;
      settled?.();
      settled = undefined;
      this.onFree(c);
    });
    sock.on("data", (d: Buffer) => this.onData(c, d));
    sock.on("error", (e: NodeJS.ErrnoException) => {
      c.lastErrorCode = e.code;
    });
    sock.on("close", () => {
      settled?.();
      settled = undefined;
      this.onClose(c, sock);
    });
  }

  private onClose(c: Conn, sock: net.Socket): void {
    if (c.sock !== sock) return;
    const wasUp = c.up;
    c.sock = undefined;
    c.up = false;
    c.buf = "";
    c.out = "";
    const lost = c.inflight.drain();
    if (!wasUp) {
      this.rec.onError("connect");
    } else if (c.killedFor === "timeout") {
      // The oldest request timed out; the ones pipelined behind it die with the connection.
      lost.forEach((r, i) => this.rec.onLost(r.start, i === 0 ? "timeout" : "closed_behind_timeout"));
    } else {
      const kind = c.killedFor ?? lostKind(c.lastErrorCode);
      for (const r of lost) this.rec.onLost(r.start, kind);
    }
    c.killedFor = undefined;
    if (!this.closing && !this.stopped) {
      c.retryTimer = setTimeout(() => this.connect(c), wasUp ? 0 : c.retryMs);
      if (!wasUp) c.retryMs = Math.min(1000, c.retryMs * 2);
    }
    this.checkIdle();
  }

  private onData(c: Conn, d: Buffer): void {
    const t = now();
    let buf = c.buf + d.toString("latin1");
    let pos = 0;
    for (let nl = buf.indexOf("\n", pos); nl >= 0; nl = buf.indexOf("\n", pos)) {
      const line = buf.slice(pos, nl);
      pos = nl + 1;
      const r = c.inflight.shift();
      if (!r) {
        this.rec.onError("unexpected_reply", t);
        continue;
      }
      const verdict = checkTcpReply(line, r.n);
      if (verdict === "ok") this.rec.onOk(r.start, t);
      else this.rec.onBadReply(r.start, verdict);
    }
    buf = buf.slice(pos);
    if (buf.length > 65536) {
      // A "line" this long is no reply of the protocol: drop the connection.
      c.killedFor = "wrong_answer";
      c.sock?.destroy();
      buf = "";
    }
    c.buf = buf;
    this.onFree(c);
    this.checkIdle();
  }

  /** A connection may have room for more requests. */
  private onFree(c: Conn): void {
    if (this.o.model === "open") this.pump(false);
    else this.fillClosed(c);
  }

  private free(c: Conn): boolean {
    return c.up && c.sock !== undefined && !c.sock.destroyed && c.inflight.length < this.maxInflight;
  }

  /** Closed model: keep `pipelining` requests outstanding on this connection. */
  private fillClosed(c: Conn): void {
    if (!c.up || !c.sock || !this.started || this.stopped) return;
    let out = "";
    const t = now();
    while (c.inflight.length < this.maxInflight) {
      const n = this.mixN[this.cycle.next()] as number;
      c.inflight.push({ start: t, sentAt: t, n });
      this.rec.onSent(t);
      out += `${n}\n`;
    }
    if (out) {
      this.lastSendAt = t;
      c.sock.write(out);
    }
  }

  /**
   * Open model: gives up what waited a whole timeout, sends every due request on the free
   * connections, then arranges the next wake-up. `tick`: called by the metronome, possibly a
   * little early: spin up to the next due time rather than sleep again.
   */
  private pump(tick: boolean): void {
    const s = this.sched;
    if (!s || !this.started || this.stopped) return;
    const times = s.times;
    const count = times.length;
    let t = now();
    if (tick && this.next < count) {
      const due = times[this.next] as number;
      if (due > t && due - t < MAX_EARLY_SPIN_MS) while (t < due) t = now();
    }
    // Given up: still unsent a whole timeout after the intended time.
    while (this.next < count && (times[this.next] as number) + this.o.timeoutMs <= t) {
      this.rec.onDropped(times[this.next] as number);
      this.next++;
    }
    let touched: Conn[] | undefined;
    const nConns = this.conns.length;
    while (this.next < count && (times[this.next] as number) <= t) {
      // The next free connection, round robin.
      let c: Conn | undefined;
      for (let k = 0; k < nConns; k++) {
        const cand = this.conns[(this.cursor + k) % nConns] as Conn;
        if (this.free(cand)) {
          c = cand;
          this.cursor = (this.cursor + k + 1) % nConns;
          break;
        }
      }
      if (!c) break;
      const i = this.next++;
      const start = times[i] as number;
      const n = this.mixN[s.mixIndex[i] as number] as number;
      c.inflight.push({ start, sentAt: t, n });
      this.rec.onSent(start);
      this.rec.onSendLag(start, t - start);
      if (c.out === "") (touched ??= []).push(c);
      c.out += `${n}\n`;
    }
    if (touched) {
      this.lastSendAt = t;
      for (const c of touched) {
        const out = c.out;
        c.out = "";
        c.sock?.write(out);
      }
    }
    if (this.next >= count) {
      this.finishOpen();
      return;
    }
    const due = times[this.next] as number;
    const blocked = due <= t;
    this.metronome?.setBlocked(blocked);
    // A Node timer too: the sole pacing without the metronome; with it, a hedge that bounds the
    // lag to the timer's lateness should the metronome thread be starved of CPU. While blocked
    // (replies and connects pump), it wakes us when the oldest due request must be given up.
    this.arm(blocked ? due + this.o.timeoutMs : due);
  }

  private arm(at: number): void {
    if (this.timer) {
      if (this.timerAt === at) return;
      clearTimeout(this.timer);
    }
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.pump(false);
      },
      Math.max(0, Math.min(at - now(), 1000)),
    );
  }

  private runOpen(): Promise<void> {
    const s = this.sched as OpenSchedule;
    if (this.metronome && !this.metronome.ready) this.rec.notes.push("tcp open model: the metronome thread was not up at the start");
    return new Promise((resolve) => {
      this.openDone = resolve;
      if (s.times.length === 0) this.finishOpen();
      else this.pump(false);
    });
  }

  private finishOpen(): void {
    this.stopped = true;
    this.stopOpen();
    for (const c of this.conns) {
      if (c.retryTimer) {
        clearTimeout(c.retryTimer);
        c.retryTimer = undefined;
      }
    }
    const done = this.openDone;
    this.openDone = undefined;
    done?.();
  }

  private stopOpen(): void {
    this.metronome?.stop();
    const m = this.metronome;
    if (m) {
      const slack = m.timerSlackUs === undefined ? "unknown" : `${m.timerSlackUs} µs`;
      this.rec.notes.push(
        `tcp open model: sends paced by a metronome thread (${m.wakes} wake-ups, lead ${(m.leadMs * 1000).toFixed(0)} µs, timer slack ${slack})`,
      );
    }
    this.metronome = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async runClosed(): Promise<void> {
    for (const c of this.conns) this.fillClosed(c);
    await sleepUntil(this.rec.window.measureEnd);
    this.stopped = true;
    for (const c of this.conns) {
      if (c.retryTimer) {
        clearTimeout(c.retryTimer);
        c.retryTimer = undefined;
      }
    }
  }

  private checkTimeouts(): void {
    const t = now();
    for (const c of this.conns) {
      const head = c.inflight.peek();
      if (head && c.sock && t - head.sentAt > this.o.timeoutMs) {
        c.killedFor = "timeout";
        c.sock.destroy();
      }
    }
  }

  private outstanding(): number {
    let n = 0;
    for (const c of this.conns) n += c.inflight.length;
    return n;
  }

  private checkIdle(): void {
    if (this.stopped && this.onIdle && this.outstanding() === 0) this.onIdle();
  }

  /** Waits for the replies still outstanding (each bounded by the timeout checker). */
  private drain(deadline: number): Promise<void> {
    if (this.outstanding() === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => {
          this.onIdle = undefined;
          for (const c of this.conns) for (const r of c.inflight.drain()) this.rec.onLost(r.start, "timeout");
          resolve();
        },
        Math.max(0, deadline - now()),
      );
      this.onIdle = () => {
        this.onIdle = undefined;
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private close(): void {
    this.closing = true;
    for (const c of this.conns) {
      if (c.retryTimer) clearTimeout(c.retryTimer);
      c.retryTimer = undefined;
      const s = c.sock;
      c.sock = undefined;
      c.up = false;
      s?.destroy();
    }
  }
}

export function runTcp(o: TcpOptions, rec: Recorder): Promise<void> {
  return new TcpClient(o, rec).run();
}
