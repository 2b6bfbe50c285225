import net from "node:net";

/**
 * Raw byte-level connections for the conformance and bad-input suites: write exactly the bytes
 * a case needs (split, pipelined, malformed), then wait for a reply, a close, or silence.
 *
 * A `Dialer` opens connections either through the front (a plain socket to its published
 * loopback port) or straight to the model's own port inside its container (`direct.ts`), so a
 * case is written once and run on both paths.
 */
export interface Conn {
  /** Everything received so far. */
  readonly received: Buffer;
  /** The peer closed (FIN) or reset the connection. */
  readonly closed: boolean;
  /** The close was a reset (ECONNRESET / EPIPE) rather than a FIN. */
  readonly reset: boolean;
  write(data: string | Buffer): void;
  /** Close our side completely (a client going away). */
  destroy(): void;
  /** Close with a RST (SO_LINGER 0). */
  resetAndDestroy(): void;
  /** Half-close: send FIN, keep reading. */
  end(): void;
  /** Resolves true as soon as pred(received) holds, false on timeout; also settles on close. */
  waitFor(pred: (received: Buffer) => boolean, timeoutMs: number): Promise<boolean>;
  /** Resolves true when the peer closed within timeoutMs. */
  waitClose(timeoutMs: number): Promise<boolean>;
  /** Milliseconds from the first write until pred first held (or undefined). */
  readonly openedAt: number;
}

export interface Dialer {
  readonly name: "front" | "direct";
  open(): Promise<Conn>;
}

/** The shared bookkeeping of a Conn: a buffer, waiters, and a close flag. */
export abstract class BaseConn implements Conn {
  received: Buffer = Buffer.alloc(0);
  closed = false;
  reset = false;
  readonly openedAt = performance.now();
  private waiters: Array<() => void> = [];

  protected onData(chunk: Buffer): void {
    this.received = this.received.length ? Buffer.concat([this.received, chunk]) : chunk;
    this.wake();
  }

  protected onClose(reset: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.reset = reset;
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  waitFor(pred: (received: Buffer) => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = () => {
        if (pred(this.received)) return finish(true);
        if (this.closed) return finish(false);
        this.waiters.push(check);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      let settled = false;
      const finish = (v: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(v);
      };
      check();
    });
  }

  async waitClose(timeoutMs: number): Promise<boolean> {
    await this.waitFor(() => false, timeoutMs);
    return this.closed;
  }

  abstract write(data: string | Buffer): void;
  abstract destroy(): void;
  abstract resetAndDestroy(): void;
  abstract end(): void;
}

class SocketConn extends BaseConn {
  constructor(private sock: net.Socket) {
    super();
    sock.setNoDelay(true);
    sock.on("data", (d) => this.onData(d));
    sock.on("end", () => this.onClose(false));
    sock.on("close", () => this.onClose(false));
    sock.on("error", () => this.onClose(true));
  }
  write(data: string | Buffer): void {
    if (!this.sock.destroyed && this.sock.writable) this.sock.write(typeof data === "string" ? Buffer.from(data, "latin1") : data);
  }
  destroy(): void {
    this.sock.destroy();
  }
  resetAndDestroy(): void {
    this.sock.resetAndDestroy();
  }
  end(): void {
    this.sock.end();
  }
}

export function socketDialer(port: number, host = "127.0.0.1"): Dialer {
  return {
    name: "front",
    open: () =>
      new Promise((resolve, reject) => {
        const sock = net.connect(port, host);
        sock.once("connect", () => {
          sock.off("error", reject);
          resolve(new SocketConn(sock));
        });
        sock.once("error", reject);
      }),
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Write the parts one after another, waiting gapMs between them. */
export async function writeSlowly(conn: Conn, parts: Array<string | Buffer>, gapMs: number): Promise<void> {
  for (const [i, p] of parts.entries()) {
    if (i > 0) await sleep(gapMs);
    conn.write(p);
  }
}

/** Cut a string into pieces of `size` bytes. */
export function chunks(s: string | Buffer, size: number): Buffer[] {
  const b = typeof s === "string" ? Buffer.from(s, "latin1") : s;
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += size) out.push(b.subarray(i, i + size));
  return out;
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.x responses out of a raw byte stream

export interface RawResponse {
  version: string;
  status: number;
  reason: string;
  headers: Record<string, string>; // lower-case names; repeated ones joined with ", "
  body: string;
}

export interface ParsedStream {
  responses: RawResponse[];
  /** Bytes after the last complete response (an incomplete one, or garbage). */
  rest: Buffer;
  /** Set when the stream cannot be read as HTTP/1.x responses (e.g. an HTTP/0.9 bare body). */
  garbage?: string;
}

/**
 * Split a byte stream into complete HTTP/1.x responses. Bodies are framed by Content-Length,
 * chunked encoding, or (when `closed`) the end of the stream. Responses to HEAD are not
 * expected here.
 */
export function parseResponses(buf: Buffer, closed = false): ParsedStream {
  const responses: RawResponse[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const prefix = buf.subarray(pos, pos + 5).toString("latin1");
    if (!"HTTP/".startsWith(prefix)) {
      return { responses, rest: buf.subarray(pos), garbage: buf.subarray(pos, pos + 200).toString("latin1") };
    }
    const headEnd = buf.indexOf("\r\n\r\n", pos, "latin1");
    if (headEnd === -1) break;
    const head = buf.subarray(pos, headEnd).toString("latin1").split("\r\n");
    const m = /^(HTTP\/\d\.\d) (\d{3})(?: (.*))?$/.exec(head[0] ?? "");
    if (!m) return { responses, rest: buf.subarray(pos), garbage: head[0] };
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const i = line.indexOf(":");
      if (i <= 0) continue;
      const k = line.slice(0, i).trim().toLowerCase();
      const v = line.slice(i + 1).trim();
      headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
    }
    let bodyStart = headEnd + 4;
    let body: Buffer;
    const status = Number(m[2]);
    if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
      body = Buffer.alloc(0);
    } else if (headers["transfer-encoding"]?.toLowerCase().includes("chunked")) {
      const parts: Buffer[] = [];
      let p = bodyStart;
      let done = false;
      for (;;) {
        const eol = buf.indexOf("\r\n", p, "latin1");
        if (eol === -1) break;
        const size = parseInt(buf.subarray(p, eol).toString("latin1"), 16);
        if (Number.isNaN(size)) return { responses, rest: buf.subarray(pos), garbage: "bad chunk size" };
        if (size === 0) {
          // The last chunk, then no trailers (what every server here sends): "0\r\n\r\n".
          const fin = buf.indexOf("\r\n", eol + 2, "latin1");
          if (fin === -1) break;
          p = fin + 2;
          done = true;
          break;
        }
        if (eol + 2 + size + 2 > buf.length) break;
        parts.push(buf.subarray(eol + 2, eol + 2 + size));
        p = eol + 2 + size + 2;
      }
      if (!done) break;
      body = Buffer.concat(parts);
      bodyStart = p;
      responses.push({ version: m[1]!, status, reason: m[3] ?? "", headers, body: body.toString("latin1") });
      pos = bodyStart;
      continue;
    } else if (headers["content-length"] !== undefined) {
      const len = Number(headers["content-length"]);
      if (bodyStart + len > buf.length) break;
      body = buf.subarray(bodyStart, bodyStart + len);
      bodyStart += len;
    } else if (closed) {
      body = buf.subarray(bodyStart);
      bodyStart = buf.length;
    } else {
      break; // close-delimited, not closed yet
    }
    responses.push({ version: m[1]!, status, reason: m[3] ?? "", headers, body: body.toString("latin1") });
    pos = bodyStart;
  }
  return { responses, rest: buf.subarray(pos) };
}

/** Wait until `count` complete responses arrived (or the peer closed, or timeout). */
export async function readResponses(conn: Conn, count: number, timeoutMs: number): Promise<ParsedStream> {
  await conn.waitFor((b) => {
    const p = parseResponses(b);
    return p.responses.length >= count || p.garbage !== undefined;
  }, timeoutMs);
  return parseResponses(conn.received, conn.closed);
}

/** Who produced a response: the model's own code (X-Worker), the front (nginx), or a framework. */
export function answeredBy(r: RawResponse, path: "front" | "direct"): "model" | "front" | "framework" {
  if (r.headers["x-worker"]) return "model";
  // nginx puts its own Server header on everything it proxies too; its error pages tell.
  if (path === "front" && /<center>nginx/i.test(r.body)) return "front";
  return "framework";
}

export function get(path: string, extra = ""): string {
  return `GET ${path} HTTP/1.1\r\nHost: fiblab\r\n${extra}\r\n`;
}
