import net from "node:net";
import { checkTcpReply, WeightedCycle, type MixEntry } from "./mix.js";
import { now, sleepUntil, type Recorder } from "./recorder.js";
import { buildOpenSchedule, connectionOf } from "./schedule.js";

/**
 * The TCP load client for the line protocol ("n\n" → "fib(n)\n", replies in request order).
 *
 * Open model: a precomputed schedule of intended send times at `rate`, request i on connection
 * i mod `connections`. A request waits on its connection while that one has `maxInflight`
 * requests outstanding or is reconnecting; it is sent as soon as it can be, and its latency runs
 * from the INTENDED time, so a stall of the server shows in full for every request that should
 * have been sent during it (no coordinated omission). Intended sends still unsent at the end are
 * `dropped`.
 *
 * Closed model: `connections` × `pipelining` requests outstanding; each reply sends the next one
 * on its connection. Latency runs from the actual send.
 *
 * Errors, per request: reset, closed (peer closed with requests outstanding), timeout (no reply
 * within timeoutMs of the send: the connection is dropped and redone), error_reply, wrong_answer;
 * per failed connect attempt: connect. Warm-up requests are excluded by their start time.
 */
export interface TcpOptions {
  host: string;
  port: number;
  model: "open" | "closed";
  /** Open: requests per second of this client. */
  rate?: number;
  connections: number;
  /** Closed: requests outstanding per connection. */
  pipelining: number;
  /** Open: most requests outstanding per connection before later ones wait (default 1000). */
  maxInflight?: number;
  mix: readonly MixEntry[];
  /** A request without a reply this long after its send is a timeout. */
  timeoutMs: number;
  /** Open: fraction of one interval to shift the schedule by (client k of n: k/n). */
  offset?: number;
  /** How long to wait for the connections before the start, ms (default 5000). */
  connectTimeoutMs?: number;
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
  inflight: Req[];
  backlog: Req[];
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

export class TcpClient {
  private readonly conns: Conn[];
  private readonly rec: Recorder;
  private readonly o: TcpOptions;
  private readonly mixN: number[];
  private readonly cycle: WeightedCycle;
  private readonly maxInflight: number;
  /** Sends may begin (the start time has come). */
  private started = false;
  /** No new sends (the end of the window has passed). */
  private stopped = false;
  /** No reconnects either: tearing down. */
  private closing = false;
  private onIdle: (() => void) | undefined;

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
      inflight: [],
      backlog: [],
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
    await this.connectAll(Math.min(w.startAt, now() + (this.o.connectTimeoutMs ?? 5000)));
    await sleepUntil(w.startAt);
    this.started = true;
    if (now() - w.startAt > 100) this.rec.notes.push(`tcp: started ${Math.round(now() - w.startAt)} ms after START_AT`);
    const ticker = setInterval(() => this.checkTimeouts(), Math.max(10, Math.min(100, this.o.timeoutMs / 4)));
    try {
      if (this.o.model === "open") await this.runOpen();
      else await this.runClosed();
      await this.drain(w.measureEnd + this.o.timeoutMs + 1000);
    } finally {
      clearInterval(ticker);
      this.close();
    }
    if (this.o.model === "open" && this.rec.maxSendLagMs > 10) {
      this.rec.notes.push(`tcp open model: the latest send was ${this.rec.maxSendLagMs.toFixed(1)} ms behind its intended time (counted in its latency)`);
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
      this.fill(c);
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
    if (!wasUp) {
      this.rec.onError("connect");
    } else {
      const kind = c.killedFor ?? lostKind(c.lastErrorCode);
      for (const r of c.inflight) this.rec.onLost(r.start, kind);
    }
    c.inflight = [];
    c.killedFor = undefined;
    if (this.closing || (this.stopped && c.backlog.length === 0)) {
      this.checkIdle();
      return;
    }
    if (!this.stopped) {
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
    this.fill(c);
    this.checkIdle();
  }

  /** Sends what this connection may send now: the backlog (open) or new requests (closed). */
  private fill(c: Conn): void {
    if (!c.up || !c.sock || !this.started) return;
    let out = "";
    const t = now();
    if (this.o.model === "open") {
      while (c.backlog.length > 0 && c.inflight.length < this.maxInflight) {
        const r = c.backlog.shift() as Req;
        r.sentAt = t;
        c.inflight.push(r);
        this.rec.onSent(r.start);
        this.rec.onSendLag(t - r.start);
        out += `${r.n}\n`;
      }
    } else if (!this.stopped) {
      while (c.inflight.length < this.maxInflight) {
        const n = this.mixN[this.cycle.next()] as number;
        c.inflight.push({ start: t, sentAt: t, n });
        this.rec.onSent(t);
        out += `${n}\n`;
      }
    }
    if (out) c.sock.write(out);
  }

  private runOpen(): Promise<void> {
    const w = this.rec.window;
    const s = buildOpenSchedule({
      rate: this.o.rate ?? 0,
      startAt: w.startAt,
      endAt: w.measureEnd,
      connections: this.o.connections,
      weights: this.o.mix.map((e) => e.weight),
      offset: this.o.offset ?? 0,
    });
    let next = 0;
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const touched = new Set<Conn>();
      const pump = () => {
        const t = now();
        if (t >= w.measureEnd) return finish();
        while (next < s.times.length && (s.times[next] as number) <= t) {
          const c = this.conns[connectionOf(s, next)] as Conn;
          c.backlog.push({ start: s.times[next] as number, sentAt: 0, n: this.mixN[s.mixIndex[next] as number] as number });
          touched.add(c);
          next++;
        }
        for (const c of touched) this.fill(c);
        touched.clear();
        const due = next < s.times.length ? (s.times[next] as number) : w.measureEnd;
        timer = setTimeout(pump, Math.max(0, Math.min(due, w.measureEnd) - now()));
      };
      const finish = () => {
        if (timer) clearTimeout(timer);
        this.stopped = true;
        for (; next < s.times.length; next++) this.rec.onDropped(s.times[next] as number);
        for (const c of this.conns) {
          for (const r of c.backlog) this.rec.onDropped(r.start);
          c.backlog = [];
          if (c.retryTimer) {
            clearTimeout(c.retryTimer);
            c.retryTimer = undefined;
          }
        }
        resolve();
      };
      pump();
    });
  }

  private async runClosed(): Promise<void> {
    for (const c of this.conns) this.fill(c);
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
      const head = c.inflight[0];
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
      const timer = setTimeout(() => {
        this.onIdle = undefined;
        for (const c of this.conns) {
          for (const r of c.inflight) this.rec.onLost(r.start, "timeout");
          c.inflight = [];
        }
        resolve();
      }, Math.max(0, deadline - now()));
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
