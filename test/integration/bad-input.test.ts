import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { httpGet, tcpLines } from "../support/clients.js";
import { modelsUnderTest } from "../support/models.js";
import type { Manifest } from "../../orchestrator/src/models/manifest.js";
import { answeredBy, chunks, get, parseResponses, readResponses, sleep, writeSlowly, type Conn, type Dialer } from "../support/raw.js";
import { expectUnharmed, useModel, type ModelUnderTest, none } from "../support/suite.js";

// The bad-input corpus, on every model of the catalog (MODELS=a,b narrows), on each protocol
// its manifest lists. TCP goes through the front (its stream proxy passes bytes through
// unchanged). HTTP goes both through the front, where nginx answers most malformed requests
// itself, and straight to the model's own port from inside its container, where the model's own
// parser (or its framework's) meets them. For every case: the documented answer (or one of the
// answers DESIGN allows, or a clean close), then a healthy client on another connection is
// served; at the end the container has not restarted and no server process has died.
//
// Outcomes are printed per model and written to $TMPDIR/fiblab-bad-input/<model>.json.

const models = await modelsUnderTest();
const ERR = /^error: \S.*$/;
const FORTY_DIGITS = "1234567890123456789012345678901234567890";

// ---------------------------------------------------------------------------------------------
// TCP

interface TcpSpec {
  name: string;
  send: string | Buffer | Array<string | Buffer>;
  gapMs?: number;
  /** The reply lines, in order: exact text or a pattern. */
  lines: Array<string | RegExp>;
  /** After the lines the connection stays open (the default), or the server closes it. */
  then?: "open" | "close";
  /** The lines may be cut short by the close (a reset can destroy unread replies). */
  linesOptional?: boolean;
}

const tcpSpecs: TcpSpec[] = [
  { name: "non-numeric", send: "abc\n10\n", lines: [ERR, "55"] },
  { name: "negative", send: "-1\n10\n", lines: [ERR, "55"] },
  { name: "negative zero", send: "-0\n10\n", lines: [/^(0|error: \S.*)$/, "55"] },
  { name: "a 40-digit number", send: `${FORTY_DIGITS}\n10\n`, lines: [ERR, "55"] },
  { name: "above the cap (FIB_MAX + 1)", send: "36\n10\n", lines: [ERR, "55"] },
  { name: "beyond 64 bits (20 digits)", send: "99999999999999999999\n10\n", lines: [ERR, "55"] },
  { name: "an empty line", send: "\n10\n", lines: [ERR, "55"] },
  { name: "a line of only CR", send: "\r\n10\n", lines: [ERR, "55"] },
  { name: "three empty lines", send: "\n\n\n10\n", lines: [ERR, ERR, ERR, "55"] },
  { name: "whitespace around the digits", send: " 5\n5 \n\t5\n10\n", lines: [ERR, ERR, ERR, "55"] },
  { name: "a leading +", send: "+5\n10\n", lines: [ERR, "55"] },
  { name: "a float and an exponent", send: "5.0\n1e3\n10\n", lines: [ERR, ERR, "55"] },
  { name: "hexadecimal", send: "0x10\n10\n", lines: [ERR, "55"] },
  { name: "an underscore (Python's int() takes 1_0)", send: "1_0\n10\n", lines: [ERR, "55"] },
  { name: "unicode digits (Arabic-Indic, fullwidth)", send: Buffer.from("١٢\n１２\n10\n", "utf8"), lines: [ERR, ERR, "55"] },
  {
    name: "NUL and binary bytes",
    send: Buffer.concat([Buffer.from([0x00, 0x0a, 0x35, 0x00, 0x0a, 0xff, 0xfe, 0x0a]), Buffer.from("10\n")]),
    lines: [ERR, ERR, ERR, "55"],
  },
  { name: "two CRs (only one trailing CR is ignored)", send: "5\r\r\n10\n", lines: [ERR, "55"] },
  { name: "CRLF line ends", send: "12\r\n10\r\n", lines: ["144", "55"] },
  { name: "leading zeros", send: "007\n10\n", lines: [/^(13|error: \S.*)$/, "55"] },
  { name: "a 64-byte line (the limit) is answered", send: `${"0".repeat(62)}10\n10\n`, lines: ["55", "55"] },
  {
    name: "errors and answers interleaved in a pipeline stay in order",
    send: "abc\n5\n-1\n6\n99\n7\n",
    lines: [ERR, "5", ERR, "8", ERR, "13"],
  },
  {
    name: "requests split across many writes",
    send: ["1", "2", "\n2", "0", "\n", "2", "5", "\n"],
    gapMs: 15,
    lines: ["144", "6765", "75025"],
  },
  { name: "one byte per write", send: chunks("10\n20\n", 1), gapMs: 10, lines: ["55", "6765"] },
  { name: "a line over 64 bytes: error, then close", send: `${"1".repeat(65)}\n10\n`, lines: [ERR], then: "close" },
  { name: "100 bytes and no newline: error, then close", send: "1".repeat(100), lines: [ERR], then: "close" },
  {
    name: "good lines, then an overlong one: answers, error, close",
    send: `10\n${"9".repeat(200)}\n10\n`,
    lines: ["55", ERR],
    then: "close",
  },
  {
    name: "1 MiB without a newline: closed, not buffered",
    send: Buffer.alloc(1 << 20, 0x31),
    lines: [ERR],
    then: "close",
    linesOptional: true,
  },
];

// ---------------------------------------------------------------------------------------------
// HTTP

/** A status; "close": closed without a reply (through the front nginx turns that into a 502);
 * "http0.9": a bare body; "wait": no reply and still open (the request is not complete to it). */
type Accept = number | "close" | "http0.9" | "wait";

interface HttpSpec {
  name: string;
  send: string | Buffer | Array<string | Buffer>;
  gapMs?: number;
  /** Acceptable answers: a status, a clean close without a reply, or an HTTP/0.9 bare body. */
  accept: Accept[];
  /** The body a 200 must carry. */
  body?: string;
  /** Then, unless the connection is closed after the first reply, GET /fib/11 on the same
   * connection must be answered 89 (the stream stayed in sync). Sent after the first reply, not
   * pipelined: pipelining has cases of its own. */
  follow?: boolean;
  /** After the reply the server must close (HTTP/1.0). */
  closes?: boolean;
  waitMs?: number;
}

const H = "Host: fiblab\r\n";
const req = (line: string, headers = "", body = "") => `${line}\r\n${H}${headers}\r\n${body}`;

const httpSpecs: HttpSpec[] = [
  { name: "non-numeric", send: get("/fib/abc"), accept: [400], follow: true },
  { name: "negative", send: get("/fib/-1"), accept: [400], follow: true },
  { name: "above the cap", send: get("/fib/36"), accept: [422], follow: true },
  { name: "a 40-digit number", send: get(`/fib/${FORTY_DIGITS}`), accept: [422, 400], follow: true },
  { name: "/fib/ with no number", send: get("/fib/"), accept: [400, 404], follow: true },
  { name: "/fib/1/2", send: get("/fib/1/2"), accept: [404, 400], follow: true },
  { name: "unknown path", send: get("/nope"), accept: [404], follow: true },
  { name: "/sleep/abc", send: get("/sleep/abc"), accept: [400], follow: true },
  { name: "/sleep above SLEEP_MAX_MS", send: get("/sleep/10001"), accept: [422], follow: true },
  { name: "PUT", send: req("PUT /fib/5 HTTP/1.1", "Content-Length: 0\r\n"), accept: [405], follow: true },
  { name: "DELETE", send: req("DELETE /fib/5 HTTP/1.1"), accept: [405], follow: true },
  {
    name: "POST with a body (which is consumed)",
    send: req("POST /fib/5 HTTP/1.1", "Content-Length: 11\r\n", "hello world"),
    accept: [405],
    follow: true,
  },
  { name: "unknown method BREW", send: req("BREW /fib/5 HTTP/1.1"), accept: [405, 501, 400, "close"], follow: true },
  { name: "lowercase method", send: req("get /fib/5 HTTP/1.1"), accept: [400, 405, 501, "close"], follow: true },
  { name: "malformed request line", send: "GARBAGE\r\n\r\n", accept: [400, "close"] },
  // An HTTP/0.9 request: refused, closed, or answered (bare body, or a full reply as Node does).
  { name: "missing version", send: "GET /fib/5\r\n\r\n", accept: [400, 404, 505, "close", "http0.9", 200], body: "5\n" },
  // RFC 9112 2.6: a 505 is allowed, not required; answering in HTTP/1.1 is fine.
  { name: "version HTTP/3.7", send: req("GET /fib/5 HTTP/3.7"), accept: [505, 400, "close", 200], body: "5\n" },
  { name: "HTTP/2 connection preface", send: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", accept: [400, 404, 405, 505, "close"] },
  // nginx drops such a line and passes the request on: 200 is its answer through the front.
  { name: "header line without a colon", send: req("GET /fib/5 HTTP/1.1", "NoColonHere\r\n"), accept: [400, "close", 200], body: "5\n" },
  // RFC 9112 5.1: whitespace between a field name and the colon MUST be rejected with a 400.
  { name: "whitespace before a header colon", send: req("GET /fib/5 HTTP/1.1", "X-A : b\r\n"), accept: [400, "close"] },
  { name: "obsolete line folding", send: req("GET /fib/10 HTTP/1.1", "X-A: a\r\n b\r\n"), accept: [400, "close", 200], body: "55\n" },
  // Size limits are the server's choice: refused, closed, or served.
  {
    name: "oversized header (17 KiB)",
    send: req("GET /fib/5 HTTP/1.1", `X-Big: ${"a".repeat(17 * 1024)}\r\n`),
    accept: [431, 400, 413, "close", 200],
    body: "5\n",
  },
  {
    name: "150 header fields",
    send: req("GET /fib/10 HTTP/1.1", Array.from({ length: 150 }, (_, i) => `X-H${i}: ${i}\r\n`).join("")),
    accept: [431, 400, "close", 200],
    body: "55\n",
  },
  { name: "huge URL (20 KiB)", send: get(`/fib/5?x=${"a".repeat(20 * 1024)}`), accept: [414, 431, 400, "close", 200], body: "5\n" },
  { name: "NUL in the URL", send: req("GET /fib/5\x00 HTTP/1.1"), accept: [400, "close"] },
  // RFC 9110 5.5: reject, or replace the NUL with a space.
  { name: "NUL in a header value", send: req("GET /fib/5 HTTP/1.1", "X-A: a\x00b\r\n"), accept: [400, "close", 200], body: "5\n" },
  { name: "non-ASCII bytes in the URL", send: Buffer.from(req("GET /fib/\xff\xfe HTTP/1.1"), "latin1"), accept: [400, 404, "close"] },
  { name: "a request split across many writes", send: chunks(get("/fib/10"), 3), gapMs: 5, accept: [200], body: "55\n", follow: true },
  {
    name: "GET with a Content-Length body (consumed)",
    send: req("GET /fib/10 HTTP/1.1", "Content-Length: 5\r\n", "hello"),
    accept: [200],
    body: "55\n",
    follow: true,
  },
  {
    name: "GET with a chunked body",
    send: req("GET /fib/10 HTTP/1.1", "Transfer-Encoding: chunked\r\n", "5\r\nhello\r\n0\r\n\r\n"),
    accept: [200, 400, 411, 501, "close"],
    body: "55\n",
    follow: true,
  },
  // RFC 9112 6.3: an invalid or conflicting Content-Length MUST be answered 400 (then close).
  { name: "invalid Content-Length", send: req("GET /fib/10 HTTP/1.1", "Content-Length: abc\r\n"), accept: [400, "close"] },
  { name: "negative Content-Length", send: req("GET /fib/10 HTTP/1.1", "Content-Length: -5\r\n"), accept: [400, "close"] },
  {
    name: "two different Content-Lengths",
    send: req("GET /fib/10 HTTP/1.1", "Content-Length: 1\r\nContent-Length: 2\r\n", "ab"),
    accept: [400, "close"],
  },
  {
    name: "Content-Length and Transfer-Encoding together",
    send: req("GET /fib/10 HTTP/1.1", "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"),
    accept: [400, 501, "close", 200],
    body: "55\n",
  },
  { name: "HTTP/1.1 without Host", send: "GET /fib/10 HTTP/1.1\r\n\r\n", accept: [400, 200], body: "55\n" },
  { name: "HTTP/1.0: answered, then closed", send: `GET /fib/10 HTTP/1.0\r\n${H}\r\n`, accept: [200], body: "55\n", closes: true },
  { name: "HTTP/1.0 without Host", send: "GET /fib/10 HTTP/1.0\r\n\r\n", accept: [200, 400], body: "55\n" },
  { name: "a query string", send: get("/fib/10?x=1"), accept: [200, 400, 404], body: "55\n", follow: true },
  { name: "percent-encoded digits", send: get("/fib/%31%30"), accept: [200, 400, 404], body: "55\n", follow: true },
  // RFC 9112 3.2.2: a server MUST accept the absolute form.
  { name: "absolute-form target", send: req("GET http://fiblab/fib/10 HTTP/1.1"), accept: [200], body: "55\n", follow: true },
  // RFC 9112 2.2: a recipient MAY take a bare LF as a line end; one that does not may go on
  // waiting for the end of the header section.
  {
    name: "bare LF line ends",
    send: "GET /fib/10 HTTP/1.1\nHost: fiblab\n\n",
    accept: [200, 400, "close", "wait"],
    body: "55\n",
    waitMs: 1500,
  },
];

// ---------------------------------------------------------------------------------------------

interface Ctx {
  t: ModelUnderTest;
  outcomes: Record<string, string>;
}

/** A healthy client on connections of its own: HTTP (and TCP) through the front, fresh each time. */
async function healthy(t: ModelUnderTest, what: string, timeoutMs = 15_000): Promise<void> {
  const r = await httpGet(t.lab.httpPort, "/fib/10", { timeoutMs }).catch((e: Error) => ({ status: 0, body: e.message }));
  expect(`${r.status} ${r.body}`, `healthy HTTP client after: ${what}`).toBe("200 55\n");
  if (t.traits.tcp) {
    const { lines } = await tcpLines(t.lab.tcpPort, "10\n", 1, timeoutMs);
    expect(lines[0], `healthy TCP client after: ${what}`).toBe("55");
  }
}

/** Served within timeoutMs while something else holds connections open? */
async function servedWithin(t: ModelUnderTest, timeoutMs: number): Promise<boolean> {
  const http = httpGet(t.lab.httpPort, "/fib/10", { timeoutMs }).then(
    (r) => r.body === "55\n",
    () => false,
  );
  const tcp = t.traits.tcp
    ? tcpLines(t.lab.tcpPort, "10\n", 1, timeoutMs).then(
        (r) => r.lines[0] === "55",
        () => false,
      )
    : Promise.resolve(true);
  return (await http) && (await tcp);
}

const countLines = (b: Buffer) => b.toString("latin1").split("\n").length - 1;

async function runTcpSpec(t: ModelUnderTest, spec: TcpSpec): Promise<string> {
  const c = await t.front.tcp.open();
  try {
    const parts = Array.isArray(spec.send) ? spec.send : [spec.send];
    const writing = writeSlowly(c, parts, spec.gapMs ?? 0);
    await c.waitFor((b) => countLines(b) >= spec.lines.length, 10_000);
    await writing;
    const got = c.received.toString("latin1").split("\n").slice(0, -1);
    if (spec.then === "close") {
      expect(await c.waitClose(5000), "the server closes the connection").toBe(true);
    } else {
      await sleep(50); // no surprise extra reply or close
    }
    const text = c.received.toString("latin1").split("\n").slice(0, -1);
    const expected = spec.linesOptional ? spec.lines.slice(0, text.length) : spec.lines;
    expect(text.length, `reply lines: ${JSON.stringify(text)}`).toBe(expected.length);
    expected.forEach((want, i) => {
      if (typeof want === "string") expect(text[i], `line ${i + 1}`).toBe(want);
      else expect(text[i], `line ${i + 1}`).toMatch(want);
    });
    if (spec.then !== "close") expect(c.closed, "connection still open").toBe(false);
    return `${JSON.stringify(got.map((l) => (l.length > 40 ? l.slice(0, 40) + "…" : l)))}${c.closed ? " + close" : ""}`;
  } finally {
    c.destroy();
  }
}

async function runHttpSpec(dial: Dialer, given: HttpSpec, deviation?: Manifest["knownDeviations"][string]): Promise<string> {
  // A deviation the model's manifest declares is accepted on its own port only: the front must
  // still answer as the contract says.
  const spec = deviation && dial.name !== "front" ? { ...given, accept: [...given.accept, ...(deviation.accept as Accept[])] } : given;
  const c = await dial.open();
  const waitMs = spec.waitMs ?? 5000;
  try {
    await writeSlowly(c, Array.isArray(spec.send) ? spec.send : [spec.send], spec.gapMs ?? 0);
    const p = await readResponses(c, 1, waitMs);
    const first = p.responses[0];
    if (!first) {
      if (p.garbage !== undefined) {
        // Not an HTTP/1.x response: acceptable only as the HTTP/0.9 answer to a version-less request.
        await c.waitClose(3000);
        const raw = c.received.toString("latin1");
        expect(spec.accept.includes("http0.9") && raw === "5\n" && c.closed, `not HTTP: ${JSON.stringify(raw.slice(0, 80))}`).toBe(true);
        return "HTTP/0.9 bare body + close";
      }
      if (!c.closed) {
        expect(spec.accept, `no reply within ${waitMs} ms and still open`).toContain("wait");
        return `no reply in ${waitMs} ms, still open`;
      }
      expect(spec.accept, "closed without a reply").toContain("close");
      return `close${c.reset ? " (reset)" : ""}`;
    }
    const by = answeredBy(first, dial.name);
    const outcome = [`${first.status} ${by}`];
    // Through the front, a model that closes without a reply shows as nginx's 502.
    const upstreamClosed = dial.name === "front" && by === "front" && first.status === 502 && spec.accept.includes("close");
    if (upstreamClosed) outcome.push("(the model closed without a reply)");
    else expect(spec.accept, `status ${first.status} (${by}): ${JSON.stringify(first.body.slice(0, 80))}`).toContain(first.status);
    if (first.status === 200 && spec.body !== undefined) expect(first.body).toBe(spec.body);
    const announcedClose = first.headers["connection"]?.toLowerCase() === "close";
    if (spec.closes || (spec.follow && announcedClose)) {
      expect(await c.waitClose(3000), "closed after the reply").toBe(true);
      outcome.push("close");
    }
    if (spec.follow && !announcedClose) {
      await sleep(20);
      if (c.closed) {
        outcome.push("close");
      } else {
        c.write(get("/fib/11"));
        const { responses } = await readResponses(c, 2, 5000);
        const second = responses[1];
        if (!second && c.closed) outcome.push("close");
        else {
          expect(second && `${second.status} ${second.body}`, "the next request on the same connection").toBe("200 89\n");
          outcome.push("next ok");
        }
      }
    }
    return outcome.join(" + ");
  } finally {
    c.destroy();
  }
}

/** The outcome of a case; a failure is recorded too (its first line) before it propagates. */
async function recorded(run: Promise<string>, record: (o: string) => void): Promise<string> {
  try {
    return await run;
  } catch (e) {
    record(`FAILED: ${String((e as Error).message).split("\n")[0]}`);
    throw e;
  }
}

describe.each(models.map((m) => [m.name, m] as const))("%s bad input", (_name, manifest) => {
  const t = useModel(manifest, { direct: true });
  const ctx: Ctx = { t, outcomes: {} };
  const slots = t.traits.connectionSlots;

  afterAll(async () => {
    const lines = Object.entries(ctx.outcomes).map(([k, v]) => `  ${k.padEnd(72)} ${v}`);
    console.log(`${manifest.name} bad-input outcomes:\n${lines.join("\n")}`);
    const dir = path.join(os.tmpdir(), "fiblab-bad-input");
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, `${manifest.name}.json`), JSON.stringify(ctx.outcomes, null, 2));
  });

  (t.traits.tcp ? describe : none)("tcp", () => {
    it.each(tcpSpecs.map((s) => [s.name, s] as const))("%s", async (name, spec) => {
      ctx.outcomes[`tcp: ${name}`] = await recorded(runTcpSpec(t, spec), (o) => (ctx.outcomes[`tcp: ${name}`] = o));
      await healthy(t, name);
    });

    it("a client that disconnects mid-request", async () => {
      const c = await t.front.tcp.open();
      c.write("2");
      await sleep(50);
      c.destroy();
      await healthy(t, "disconnect mid-request");
      ctx.outcomes["tcp: disconnect mid-request"] = "ok";
    });

    it("a client that resets the connection while its fib computes", async () => {
      const c = await t.front.tcp.open();
      c.write("27\n");
      await sleep(10);
      c.resetAndDestroy();
      await healthy(t, "reset while computing");
      ctx.outcomes["tcp: reset while computing"] = "ok";
    });

    it("a client that pipelines 5000 requests and closes without reading (mid-reply)", async () => {
      const c = await t.front.tcp.open();
      c.write("12\n".repeat(5000));
      await c.waitFor((b) => b.length > 0, 10_000);
      const got = c.received.length;
      c.destroy();
      await healthy(t, "close mid-reply");
      ctx.outcomes["tcp: close mid-reply"] = `closed after ${got} of 20000 reply bytes`;
    });

    it("a client that half-closes after its request: answered then closed, or closed", async () => {
      const c = await t.front.tcp.open();
      try {
        c.write("10\n");
        c.end();
        expect(await c.waitClose(5000), "closed after the client's FIN").toBe(true);
        const text = c.received.toString("latin1");
        expect(["55\n", ""]).toContain(text);
        ctx.outcomes["tcp: half-close"] = `${JSON.stringify(text)} + close`;
      } finally {
        c.destroy();
      }
      await healthy(t, "half-close");
    });

    it("a connection that sends nothing", async () => {
      const c = await t.front.tcp.open();
      try {
        await sleep(300);
        const served = await servedWithin(t, 2000);
        if (slots >= 2) expect(served, "others served while it idles").toBe(true);
        ctx.outcomes["tcp: silent connection"] = served ? "others served meanwhile" : "others wait (one connection at a time)";
        expect(c.closed, "the server does not drop it").toBe(false);
      } finally {
        c.destroy();
      }
      await healthy(t, "silent connection");
    });

    it("50 idle connections", async () => {
      const conns: Conn[] = [];
      try {
        for (let i = 0; i < 50; i++) conns.push(await t.front.tcp.open());
        await sleep(300);
        const served = await servedWithin(t, 2000);
        if (slots > 50) expect(served, "others served while 50 connections idle").toBe(true);
        ctx.outcomes["tcp: 50 idle connections"] = served ? "others served meanwhile" : `others wait (${slots} connection slots)`;
        expect(conns.filter((c) => c.closed).length, "none dropped").toBe(0);
      } finally {
        conns.forEach((c) => c.destroy());
      }
      await healthy(t, "50 idle connections");
    });
  });

  for (const via of ["front", "direct"] as const) {
    describe(`http via the ${via === "front" ? "front" : "model's own port"}`, () => {
      const dial = () => (via === "front" ? t.front.http : t.direct.http!);

      it.each(httpSpecs.map((s) => [s.name, s] as const))("%s", async (name, spec) => {
        ctx.outcomes[`http ${via}: ${name}`] = await recorded(
          runHttpSpec(dial(), spec, manifest.knownDeviations[name]),
          (o) => (ctx.outcomes[`http ${via}: ${name}`] = o),
        );
        await healthy(t, `${via} ${name}`);
      });

      it("pipelined requests with a bad one in the middle, answered in order", async () => {
        const c = await dial().open();
        try {
          c.write(get("/fib/5") + get("/fib/x") + get("/fib/6"));
          const { responses } = await readResponses(c, 3, 5000);
          const seen = responses.map((r) => `${r.status} ${r.body}`);
          if (responses[0]?.headers["connection"] === "close") {
            // A model without keep-alive answers the first and closes (declared in its manifest).
            expect(manifest.front.upstreamKeepalive).toBe(false);
            expect(seen).toEqual(["200 5\n"]);
          } else if (via === "direct" && manifest.knownDeviations["HTTP pipelining"]?.accept.includes("partial") && responses.length < 3) {
            expect(seen).toEqual(["200 5\n", "400 " + responses[1]?.body, "200 8\n"].slice(0, responses.length));
          } else {
            expect(seen.slice(0, 3)).toEqual(["200 5\n", "400 " + responses[1]?.body, "200 8\n"]);
          }
          ctx.outcomes[`http ${via}: pipeline with a bad request inside`] = responses.map((r) => r.status).join(",");
        } finally {
          c.destroy();
        }
        await healthy(t, "pipeline with a bad request");
      });

      it("a client that disconnects mid-request", async () => {
        const c = await dial().open();
        c.write("GET /fib/5 HT");
        await sleep(50);
        c.destroy();
        await healthy(t, "disconnect mid-request");
        ctx.outcomes[`http ${via}: disconnect mid-request`] = "ok";
      });

      it("a client that resets mid-request", async () => {
        const c = await dial().open();
        c.write("GET /fib/27 HTTP/1.1\r\nHost: fiblab\r\n\r\n");
        await sleep(10);
        c.resetAndDestroy();
        await healthy(t, "reset mid-request");
        ctx.outcomes[`http ${via}: reset mid-request`] = "ok";
      });

      it("a client that pipelines 200 requests and closes without reading (mid-reply)", async () => {
        const c = await dial().open();
        c.write(get("/fib/12").repeat(200));
        await c.waitFor((b) => b.length > 0, 10_000);
        const got = parseResponses(c.received).responses.length;
        c.destroy();
        await healthy(t, "close mid-reply");
        ctx.outcomes[`http ${via}: close mid-reply`] = `closed after ${got} replies`;
      });

      it("an idle connection", async () => {
        const c = await dial().open();
        try {
          await sleep(300);
          const served = await servedWithin(t, 2000);
          // Through the front an idle client never reaches the model at all.
          if (via === "front" || slots >= 2) expect(served, "others served while it idles").toBe(true);
          ctx.outcomes[`http ${via}: idle connection`] = served ? "others served meanwhile" : "others wait";
        } finally {
          c.destroy();
        }
        await healthy(t, "idle connection");
      });

      it("slow headers (a byte every 40 ms)", async () => {
        const c = await dial().open();
        try {
          const request = get("/fib/10");
          const writing = writeSlowly(c, chunks(request, 1), 40);
          await sleep(300);
          const served = await servedWithin(t, 2000);
          if (via === "front" || slots >= 2) expect(served, "others served during a slow request").toBe(true);
          await writing;
          const { responses } = await readResponses(c, 1, 5000);
          const r = responses[0];
          if (r) {
            expect([200, 408]).toContain(r.status);
            if (r.status === 200) expect(r.body).toBe("55\n");
          } else {
            expect(c.closed, "answered or closed").toBe(true);
          }
          ctx.outcomes[`http ${via}: slow headers`] = `${r ? r.status : "close"}; others ${served ? "served" : "waited"} meanwhile`;
        } finally {
          c.destroy();
        }
        await healthy(t, "slow headers");
      });

      it("50 idle connections", async () => {
        const conns: Conn[] = [];
        try {
          for (let i = 0; i < 50; i++) conns.push(await dial().open());
          await sleep(300);
          const served = await servedWithin(t, 2000);
          if (via === "front" || slots > 50) expect(served, "others served while 50 connections idle").toBe(true);
          ctx.outcomes[`http ${via}: 50 idle connections`] = served ? "others served meanwhile" : `others wait (${slots} connection slots)`;
        } finally {
          conns.forEach((c) => c.destroy());
        }
        await healthy(t, "50 idle connections");
      });
    });
  }

  it("the model never restarted and no server process died", async () => {
    await expectUnharmed(t, { processes: true });
  });
});
