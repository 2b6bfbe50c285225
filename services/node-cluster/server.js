// node-cluster: the cluster primary forks WORKERS workers, each running the TCP and HTTP servers
// on one event loop. The listening sockets belong to the primary, which (Node's default policy on
// Linux, SCHED_RR) accepts every connection and hands it to the workers in turn.
import cluster from 'node:cluster';
import { WORKER_ID, knob, startServers, stopServers } from './fibservice.js';

const WORKERS = Math.max(1, Number.parseInt(knob('WORKERS'), 10) || 1);

if (cluster.isPrimary) {
  let stopping = false;
  const fork = () => cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers).length === 0) process.exit(0);
      return;
    }
    console.log(`worker ${worker.process.pid} died (${signal ?? `exit ${code}`}); forking a new one`);
    // A worker that dies at once would otherwise be respawned in a tight loop.
    const lived = Date.now() - worker.startedAt;
    setTimeout(fork, lived < 1000 ? 1000 : 0);
  });
  cluster.on('fork', (worker) => { worker.startedAt = Date.now(); });
  for (let i = 0; i < WORKERS; i++) fork();
  console.log(`node-cluster primary ${WORKER_ID}: ${WORKERS} workers, http 8000, tcp 25000`);

  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.once(signal, () => {
      stopping = true;
      const alive = Object.values(cluster.workers);
      if (alive.length === 0) process.exit(0);
      for (const worker of alive) worker.process.kill('SIGTERM');
      setTimeout(() => process.exit(0), 3000).unref(); // inside compose's 5 s grace
    });
  }
} else {
  const servers = await startServers();
  process.once('SIGTERM', async () => {
    await stopServers(servers);
    process.exit(0);
  });
  // Ctrl-C in a terminal reaches the whole process group; the primary decides.
  process.on('SIGINT', () => {});
}
