// node-single: one Node process, one event loop, TCP on 25000 and HTTP on 8000.
import { WORKER_ID, startServers, stopServers } from './fibservice.js';

const servers = await startServers();
console.log(`node-single ${WORKER_ID} listening: http 8000, tcp 25000`);

// As PID 1 the process gets no default SIGTERM handling: stop on it, and on SIGINT.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, async () => {
    await stopServers(servers);
    process.exit(0);
  });
}
