import net from "node:net";
import http from "node:http";

/** Send raw bytes on one TCP connection and collect what comes back until `until` matches or the peer closes. */
export function tcpExchange(
  port: number,
  payload: string | Buffer | Array<string | Buffer>,
  opts: { until?: (received: string) => boolean; timeoutMs?: number; gapMs?: number } = {},
): Promise<{ text: string; closed: boolean }> {
  const parts = Array.isArray(payload) ? payload : [payload];
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    let text = "";
    let closed = false;
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ text, closed });
    };
    const timer = setTimeout(done, opts.timeoutMs ?? 5000);
    sock.on("error", (e) => {
      clearTimeout(timer);
      if (text || (e as NodeJS.ErrnoException).code === "ECONNRESET") resolve({ text, closed: true });
      else reject(e);
    });
    sock.on("data", (d) => {
      text += d.toString("latin1");
      if (opts.until?.(text)) done();
    });
    sock.on("end", () => {
      closed = true;
      done();
    });
    sock.on("connect", async () => {
      for (const p of parts) {
        sock.write(p);
        if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
    });
  });
}

/** Lines expected back: resolves as soon as `count` newline-terminated lines arrived. */
export async function tcpLines(port: number, payload: string | Buffer | Array<string | Buffer>, count: number, timeoutMs = 5000) {
  const r = await tcpExchange(port, payload, {
    timeoutMs,
    until: (t) => t.split("\n").length - 1 >= count,
  });
  return { lines: r.text.split("\n").slice(0, count), closed: r.closed, text: r.text };
}

export interface HttpReply {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
  /** The request went out on a kept-alive socket of `agent` (always false without an agent). */
  reusedSocket?: boolean;
  /** Our end of the connection, to tell sockets apart. */
  localPort?: number;
}

/** One HTTP request on a fresh connection (no agent reuse), so the front balances each one anew. */
export function httpGet(
  port: number,
  path: string,
  opts: { method?: string; agent?: http.Agent; timeoutMs?: number } = {},
): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, path, method: opts.method ?? "GET", agent: opts.agent ?? false, timeout: opts.timeoutMs ?? 30_000 },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (body += c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            headers: res.headers,
            reusedSocket: req.reusedSocket,
            localPort: req.socket?.localPort,
          }),
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timeout on ${path}`)));
    req.on("error", reject);
    req.end();
  });
}
