import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { BaseConn, type Conn, type Dialer } from "./raw.js";

/**
 * Connections straight to a model's own port, bypassing the front, without publishing anything:
 * one `docker exec -i` per model runs a small relay inside the model container (python3 or
 * node, whichever the image has) that multiplexes any number of loopback connections to
 * 127.0.0.1:<port> over its stdin/stdout, one JSON line per event.
 *
 * Through the front, nginx parses HTTP itself and only ever forwards well-formed requests, so
 * the model's own parser never meets a malformed one; this path is how the bad-input corpus
 * reaches it. All traffic stays on loopback (the container's own).
 *
 *   commands  {"o":"open","i":1,"p":8000} {"o":"send","i":1,"d":"<base64>"}
 *             {"o":"close","i":1} {"o":"rst","i":1} {"o":"shut","i":1}
 *   events    {"e":"open","i":1} {"e":"err","i":1,"m":"..."} {"e":"data","i":1,"d":"<base64>"}
 *             {"e":"end","i":1,"r":0|1}   (r: 1 when reset)
 */

/** The marker lets process listings (docker top) leave the relay out. */
export const RELAY_MARKER = "fiblab-test-relay";

const PY_RELAY = `# ${RELAY_MARKER}
import base64, json, os, selectors, socket, struct, sys
sel = selectors.DefaultSelector()
conns = {}
def emit(o):
    v = memoryview((json.dumps(o) + "\\n").encode())
    while v:
        v = v[os.write(1, v):]
def drop(i, reset, tell=True):
    c = conns.pop(i, None)
    if c is None: return
    sel.unregister(c["s"]); c["s"].close()
    if tell: emit({"e": "end", "i": i, "r": reset})
def flush(i):
    c = conns[i]
    try:
        while c["out"]:
            del c["out"][:c["s"].send(c["out"])]
    except BlockingIOError:
        pass
    except OSError:
        return drop(i, 1)
    if not c["out"] and c["shut"]:
        try: c["s"].shutdown(socket.SHUT_WR)
        except OSError: pass
        c["shut"] = False
    sel.modify(c["s"], selectors.EVENT_READ | (selectors.EVENT_WRITE if c["out"] else 0), i)
def command(c):
    o, i = c["o"], c["i"]
    if o == "open":
        s = socket.socket()
        try:
            s.connect(("127.0.0.1", c["p"]))
        except OSError as e:
            s.close(); return emit({"e": "err", "i": i, "m": str(e)})
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        conns[i] = {"s": s, "out": bytearray(), "shut": False}
        sel.register(s, selectors.EVENT_READ, i)
        return emit({"e": "open", "i": i})
    if i not in conns: return
    if o == "send":
        conns[i]["out"] += base64.b64decode(c["d"]); flush(i)
    elif o == "shut":
        conns[i]["shut"] = True; flush(i)
    elif o == "close":
        drop(i, 0, False)
    elif o == "rst":
        conns[i]["s"].setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); drop(i, 0, False)
sel.register(0, selectors.EVENT_READ, None)
pending = b""
while True:
    for key, mask in sel.select():
        i = key.data
        if i is None:
            d = os.read(0, 65536)
            if not d: sys.exit(0)
            pending += d
            while b"\\n" in pending:
                line, pending = pending.split(b"\\n", 1)
                command(json.loads(line))
            continue
        if i not in conns: continue
        if mask & selectors.EVENT_WRITE: flush(i)
        if i in conns and mask & selectors.EVENT_READ:
            try:
                d = conns[i]["s"].recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                drop(i, 1); continue
            if not d: drop(i, 0)
            else: emit({"e": "data", "i": i, "d": base64.b64encode(d).decode()})
`;

const NODE_RELAY = `// ${RELAY_MARKER}
const net = require("net");
const conns = new Map();
const emit = (o) => process.stdout.write(JSON.stringify(o) + "\\n");
let pending = "";
process.stdin.on("data", (d) => {
  pending += d;
  let k;
  while ((k = pending.indexOf("\\n")) >= 0) { command(JSON.parse(pending.slice(0, k))); pending = pending.slice(k + 1); }
});
process.stdin.on("end", () => process.exit(0));
function command(c) {
  const s = conns.get(c.i);
  if (c.o === "open") {
    const t = net.connect(c.p, "127.0.0.1");
    let opened = false, done = false;
    t.setNoDelay(true);
    const fin = (r) => { if (done) return; done = true; conns.delete(c.i); if (!t.gone) emit({ e: "end", i: c.i, r }); };
    t.on("connect", () => { opened = true; conns.set(c.i, t); emit({ e: "open", i: c.i }); });
    t.on("data", (d) => emit({ e: "data", i: c.i, d: d.toString("base64") }));
    t.on("end", () => { fin(0); t.destroy(); });
    t.on("error", (e) => { if (!opened) { done = true; emit({ e: "err", i: c.i, m: e.message }); } else fin(1); });
    t.on("close", () => { if (opened) fin(0); });
    return;
  }
  if (!s) return;
  if (c.o === "send") s.write(Buffer.from(c.d, "base64"));
  else if (c.o === "shut") s.end();
  else if (c.o === "close") { s.gone = true; conns.delete(c.i); s.destroy(); }
  else if (c.o === "rst") { s.gone = true; conns.delete(c.i); s.resetAndDestroy(); }
}
`;

class MuxConn extends BaseConn {
  constructor(
    private mux: DirectMux,
    readonly id: number,
  ) {
    super();
  }
  data(b: Buffer) {
    this.onData(b);
  }
  ended(reset: boolean) {
    this.onClose(reset);
  }
  write(data: string | Buffer): void {
    if (this.closed) return;
    const b = typeof data === "string" ? Buffer.from(data, "latin1") : data;
    this.mux.send({ o: "send", i: this.id, d: b.toString("base64") });
  }
  destroy(): void {
    this.mux.send({ o: "close", i: this.id });
    this.onClose(false);
  }
  resetAndDestroy(): void {
    this.mux.send({ o: "rst", i: this.id });
    this.onClose(true);
  }
  end(): void {
    this.mux.send({ o: "shut", i: this.id });
  }
}

export class DirectMux {
  private child: ChildProcessWithoutNullStreams;
  private conns = new Map<number, MuxConn>();
  private opening = new Map<number, { resolve: (c: MuxConn) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private pending = "";
  private exited = false;
  stderr = "";

  constructor(containerId: string, runtime: string) {
    const argv = runtime === "node" ? ["node", "-e", NODE_RELAY] : ["python3", "-c", PY_RELAY];
    this.child = spawn("docker", ["exec", "-i", containerId, ...argv], { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout.setEncoding("utf8");
    this.child.stdout.on("data", (d: string) => this.onStdout(d));
    this.child.stderr.on("data", (d) => (this.stderr += d));
    this.child.stdin.on("error", () => undefined);
    this.child.on("exit", () => {
      this.exited = true;
      for (const c of this.conns.values()) c.ended(true);
      for (const o of this.opening.values()) o.reject(new Error(`relay exited: ${this.stderr}`));
    });
  }

  private onStdout(d: string) {
    this.pending += d;
    let k: number;
    while ((k = this.pending.indexOf("\n")) >= 0) {
      const ev = JSON.parse(this.pending.slice(0, k)) as { e: string; i: number; d?: string; r?: number; m?: string };
      this.pending = this.pending.slice(k + 1);
      if (ev.e === "open" || ev.e === "err") {
        const o = this.opening.get(ev.i);
        this.opening.delete(ev.i);
        if (ev.e === "err") o?.reject(new Error(`direct connect failed: ${ev.m}`));
        else {
          const c = new MuxConn(this, ev.i);
          this.conns.set(ev.i, c);
          o?.resolve(c);
        }
      } else if (ev.e === "data") {
        this.conns.get(ev.i)?.data(Buffer.from(ev.d!, "base64"));
      } else if (ev.e === "end") {
        this.conns.get(ev.i)?.ended(ev.r === 1);
        this.conns.delete(ev.i);
      }
    }
  }

  send(cmd: object) {
    if (!this.exited) this.child.stdin.write(JSON.stringify(cmd) + "\n");
  }

  open(port: number, timeoutMs = 10_000): Promise<Conn> {
    const id = this.nextId++;
    return new Promise<Conn>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`direct connect timed out (relay: ${this.stderr})`)), timeoutMs);
      this.opening.set(id, {
        resolve: (c) => (clearTimeout(timer), resolve(c)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.send({ o: "open", i: id, p: port });
    });
  }

  dialer(port: number): Dialer {
    return { name: "direct", open: () => this.open(port) };
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((r) => this.child.once("exit", r));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 3000);
    await gone;
    clearTimeout(timer);
  }
}
