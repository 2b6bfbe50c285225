// The fiblab service (docs/DESIGN.md) for Node: a TCP line server on 25000 and an HTTP/1.1
// server on 8000, both in the calling process. fib runs on the event loop, so a long fib blocks
// every other connection of this process: that blocking is what the node models show.
import http from 'node:http';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import os from 'node:os';

function envInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number.parseInt(raw, 10);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  return value;
}

/**
 * A knob of this model: the environment's value, else the default in its manifest, model.json
 * (copied beside this file, in /app), the one place knob defaults are written.
 */
export function knob(name) {
  const raw = process.env[name];
  if (raw !== undefined && raw.trim() !== '') return raw;
  const { knobs = {} } = JSON.parse(readFileSync(new URL('./model.json', import.meta.url), 'utf8'));
  if (!(name in knobs)) throw new Error(`model.json lists no knob ${name}`);
  return String(knobs[name].default);
}

// Contract-wide limits, the same for every model (docs/DESIGN.md), so in no manifest.
export const FIB_MAX = envInt('FIB_MAX', 35);
export const SLEEP_MAX_MS = envInt('SLEEP_MAX_MS', 10000);
export const MAX_LINE = 64; // bytes of one TCP request line (without its newline) or number
const CAPS = { fib: [FIB_MAX, 'FIB_MAX'], sleep: [SLEEP_MAX_MS, 'SLEEP_MAX_MS'] };

/** The naive recursion on purpose: the CPU cost is the point. */
export function fib(n) {
  return n <= 2 ? (n < 1 ? 0 : 1) : fib(n - 1) + fib(n - 2);
}

/** X-Worker: container hostname / pid (each cluster worker is a process of its own). */
export const WORKER_ID = `${os.hostname()}/${process.pid}`;

/** Parses a request number against a cap: { n } or { status, reason } (as fiblab/core.py). */
export function parseNumber(text, cap, capName) {
  if (Buffer.byteLength(text) > MAX_LINE) return { status: 400, reason: 'number too long' };
  if (/^-[0-9]+$/.test(text)) return { status: 400, reason: 'negative' };
  if (!/^[0-9]+$/.test(text)) return { status: 400, reason: 'not an integer' };
  const n = Number(text);
  if (n > cap) return { status: 422, reason: `above the cap (${capName}=${cap})` };
  return { n };
}

/** The reply to one TCP request line (without its newline; a trailing \r is ignored). */
export function tcpLineReply(line) {
  const parsed = parseNumber(line.replace(/\r$/, ''), FIB_MAX, 'FIB_MAX');
  return parsed.reason ? `error: ${parsed.reason}\n` : `${fib(parsed.n)}\n`;
}

/** One TCP connection: newline framing, pipelined replies in order, close on an overlong line. */
export function serveTcpConnection(socket) {
  let pending = Buffer.alloc(0);
  let closing = false;
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk) => {
    if (closing) return;
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    const replies = [];
    let start = 0;
    for (let nl = pending.indexOf(10, start); nl !== -1 && nl - start <= MAX_LINE; nl = pending.indexOf(10, start)) {
      replies.push(tcpLineReply(pending.toString('latin1', start, nl)));
      start = nl + 1;
    }
    pending = pending.subarray(start);
    const nl = pending.indexOf(10);
    closing = nl > MAX_LINE || (nl === -1 && pending.length > MAX_LINE);
    if (closing) replies.push('error: line too long\n');
    // A client that pipelines without reading gets no more of our attention until it reads.
    if (replies.length && !socket.write(replies.join(''))) {
      socket.pause();
      socket.once('drain', () => socket.resume());
    }
    if (closing) socket.end();
  });
}

function reply(res, status, body) {
  res.writeHead(status, {
    'Content-Type': 'text/plain',
    'Content-Length': Buffer.byteLength(body),
    'X-Worker': WORKER_ID,
  });
  res.end(body);
}

/** One HTTP request: /fib/{n}, /sleep/{ms}, /healthz. */
export function handleHttp(req, res) {
  // The absolute form ("GET http://host/fib/5"), which a server must accept, names the same path.
  const path = req.url.replace(/^https?:\/\/[^/]*/i, '').split('?', 1)[0] || '/';
  const match = /^\/(fib|sleep)\/([^/]*)$/.exec(path);
  if (!match && path !== '/healthz') return reply(res, 404, 'not found\n');
  // HEAD is answered as GET; Node leaves the body out by itself.
  if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'method not allowed\n');
  if (!match) return reply(res, 200, 'ok\n');
  const [, kind, text] = match;
  const parsed = parseNumber(text, ...CAPS[kind]);
  if (parsed.reason) return reply(res, parsed.status, `${parsed.reason}\n`);
  if (kind === 'fib') return reply(res, 200, `${fib(parsed.n)}\n`);
  setTimeout(() => reply(res, 200, 'ok\n'), parsed.n);
}

/** Starts both servers in this process; resolves, once both listen, to what stopServers takes. */
export async function startServers({ httpPort = 8000, tcpPort = 25000, host = '0.0.0.0' } = {}) {
  const httpServer = http.createServer(handleHttp);
  // Idle keep-alive connections outlive the front's (nginx keeps idle upstream connections for
  // 60 s), so the front never reuses a connection that we are closing at the same moment.
  httpServer.keepAliveTimeout = 120_000;
  httpServer.headersTimeout = 125_000;
  // By default Node drops pipelined requests still queued when the client half-closes
  // (`printf 'GET ...' | nc`); with this it answers them all, then closes.
  httpServer.httpAllowHalfOpen = true;
  const tcpServer = net.createServer(serveTcpConnection);
  const tcpSockets = new Set();
  tcpServer.on('connection', (socket) => {
    tcpSockets.add(socket);
    socket.on('close', () => tcpSockets.delete(socket));
  });
  await Promise.all([
    new Promise((resolve) => httpServer.listen({ port: httpPort, host, backlog: 4096 }, resolve)),
    new Promise((resolve) => tcpServer.listen({ port: tcpPort, host, backlog: 4096 }, resolve)),
  ]);
  return { http: httpServer, tcp: tcpServer, tcpSockets };
}

/** Stops accepting, closes every connection, and resolves when both servers have closed. */
export function stopServers({ http: httpServer, tcp: tcpServer, tcpSockets }) {
  const closed = Promise.all([
    new Promise((resolve) => httpServer.close(resolve)),
    new Promise((resolve) => tcpServer.close(resolve)),
  ]);
  httpServer.closeAllConnections();
  for (const socket of tcpSockets) socket.destroy();
  return closed;
}
