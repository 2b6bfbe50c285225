// node --test services/node-common/test/ — the shared code of the Node models, on ephemeral ports.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { fib, parseNumber, startServers, stopServers, tcpLineReply } from '../fibservice.js';

test('fib', () => {
  assert.deepEqual([0, 1, 2, 3, 10, 20].map(fib), [0, 1, 1, 2, 55, 6765]);
});

test('parseNumber matches fiblab/core.py', () => {
  assert.deepEqual(parseNumber('007', 35, 'FIB_MAX'), { n: 7 });
  for (const text of ['', 'abc', '+5', ' 5', '5 ', '1.5', '1_0', '٣']) {
    assert.deepEqual(parseNumber(text, 35, 'FIB_MAX'), { status: 400, reason: 'not an integer' }, text);
  }
  assert.deepEqual(parseNumber('-0', 35, 'FIB_MAX'), { status: 400, reason: 'negative' });
  assert.deepEqual(parseNumber('36', 35, 'FIB_MAX'), { status: 422, reason: 'above the cap (FIB_MAX=35)' });
  assert.deepEqual(parseNumber('9'.repeat(64), 35, 'FIB_MAX').status, 422);
  assert.deepEqual(parseNumber('9'.repeat(65), 35, 'FIB_MAX'), { status: 400, reason: 'number too long' });
});

test('tcpLineReply', () => {
  assert.equal(tcpLineReply('20\r'), '6765\n');
  assert.equal(tcpLineReply('x'), 'error: not an integer\n');
});

let servers;
let httpUrl;
let tcpPort;
before(async () => {
  servers = await startServers({ httpPort: 0, tcpPort: 0, host: '127.0.0.1' });
  httpUrl = `http://127.0.0.1:${servers.http.address().port}`;
  tcpPort = servers.tcp.address().port;
});
after(() => stopServers(servers));

test('HTTP routes', async () => {
  const cases = [
    ['GET', '/fib/20', 200, '6765\n'], ['GET', '/sleep/10', 200, 'ok\n'], ['GET', '/healthz', 200, 'ok\n'],
    ['GET', '/fib/x', 400, 'not an integer\n'], ['GET', '/fib/99', 422, 'above the cap (FIB_MAX=35)\n'],
    ['GET', '/nope', 404, 'not found\n'], ['POST', '/fib/3', 405, 'method not allowed\n'],
    ['GET', '/fib/10?x=1', 200, '55\n'],
  ];
  for (const [method, path, status, body] of cases) {
    const res = await fetch(httpUrl + path, { method });
    assert.deepEqual([res.status, await res.text()], [status, body], path);
    assert.match(res.headers.get('x-worker'), /^[^/]+\/\d+$/);
  }
});

test('HTTP: the absolute form names the same path', async () => {
  const reply = await new Promise((resolve, reject) => {
    const socket = net.connect(servers.http.address().port, '127.0.0.1', () => {
      socket.end('GET http://fiblab/fib/10 HTTP/1.1\r\nHost: fiblab\r\nConnection: close\r\n\r\n');
    });
    let text = '';
    socket.on('data', (chunk) => { text += chunk; });
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
  assert.match(reply, /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n55\n$/);
});

/** Sends `payload` on a new TCP connection and resolves to everything read until the server closes. */
function tcpExchange(payload, { halfClose = true } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(tcpPort, '127.0.0.1', () => {
      socket.write(payload);
      if (halfClose) socket.end();
    });
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => { text += chunk; });
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

test('TCP: pipelined replies in order, \\r ignored, errors', async () => {
  assert.equal(await tcpExchange('20\n21\r\nabc\n-1\n36\n\n'),
    '6765\n10946\nerror: not an integer\nerror: negative\nerror: above the cap (FIB_MAX=35)\nerror: not an integer\n');
});

test('TCP: a line split across writes', async () => {
  const reply = await new Promise((resolve) => {
    const socket = net.connect(tcpPort, '127.0.0.1', () => {
      socket.write('2');
      setTimeout(() => socket.end('0\n'), 20);
    });
    let text = '';
    socket.on('data', (chunk) => { text += chunk; });
    socket.on('close', () => resolve(text));
  });
  assert.equal(reply, '6765\n');
});

test('TCP: an overlong line is refused and the connection closed by the server', async () => {
  const reply = await tcpExchange(`5\n${'7'.repeat(65)}\n6\n`, { halfClose: false });
  assert.equal(reply, '5\nerror: line too long\n');
  // 65 bytes without a newline yet are already too long.
  assert.equal(await tcpExchange('1'.repeat(65), { halfClose: false }), 'error: line too long\n');
});
