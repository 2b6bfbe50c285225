// Container healthcheck: exit 0 iff GET http://127.0.0.1:8000/healthz answers 200 within 2 s.
import http from 'node:http';

const req = http.get({ host: '127.0.0.1', port: 8000, path: '/healthz', timeout: 2000, agent: false }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', () => process.exit(1));
setTimeout(() => process.exit(1), 2000).unref();
