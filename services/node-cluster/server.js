// node-cluster: the cluster primary forks WORKERS workers, each running the TCP and HTTP servers
// on one event loop. How connections reach the workers is the SCHED knob (cluster.schedulingPolicy):
//   rr    (Node's default on Linux, SCHED_RR) the listening sockets belong to the primary alone,
//         which accepts every connection and hands it to the workers in turn over IPC;
//   none  (SCHED_NONE) the primary hands the listening sockets themselves to every worker, and the
//         workers accept on them: the kernel decides which idle worker gets each connection (Node
//         made rr the default because that distribution was skewed; SCHED=none measures it).
//
// The primary supervises, as gunicorn's arbiter does:
//   a worker that dies   is forked again
//   SIGTTIN / SIGTTOU    one worker more / one fewer (at least one stays; it retires gracefully)
//   SIGHUP               a rolling restart: the workers are replaced one at a time (fork the new
//                        one, wait until it listens, then retire one old one), so capacity never
//                        drops below WORKERS
//   SIGTERM / SIGINT     stop every worker, then exit
// Retiring a worker is graceful: worker.disconnect() closes its servers (in-flight requests finish,
// idle keep-alive connections close); what is still open after RETIRE_GRACE_MS (a long-lived TCP
// connection) is closed by SIGTERM, and SIGKILL follows if even that does not end it.
import cluster from 'node:cluster';
import { WORKER_ID, knob, startServers, stopServers } from './fibservice.js';

const WORKERS = Math.max(1, Number.parseInt(knob('WORKERS'), 10) || 1);
const POLICIES = { rr: cluster.SCHED_RR, none: cluster.SCHED_NONE };
const SCHED = knob('SCHED').trim().toLowerCase();
if (!(SCHED in POLICIES)) throw new Error(`SCHED must be rr or none, not ${JSON.stringify(SCHED)}`);
const RETIRE_GRACE_MS = 5000;
const LISTEN_WAIT_MS = 10_000;
const SERVERS_PER_WORKER = 2; // HTTP and TCP

/** Resolves once the worker has exited, or after ms (false). */
function exited(worker, ms) {
  if (worker.isDead()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Resolves once the worker listens on both servers, or after ms. */
function listening(worker, ms) {
  return new Promise((resolve) => {
    let count = 0;
    const timer = setTimeout(resolve, ms);
    worker.on('listening', () => {
      if (++count === SERVERS_PER_WORKER) {
        clearTimeout(timer);
        resolve();
      }
    });
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function primary() {
  let stopping = false;
  let rolling = false;
  let target = WORKERS;
  const retiring = new Set(); // worker ids on their way out: their exit forks no replacement
  const live = () => Object.values(cluster.workers).filter((w) => !retiring.has(w.id));
  const fork = () => cluster.fork();

  async function retire(worker) {
    retiring.add(worker.id);
    console.log(`worker ${worker.process.pid} retiring`);
    worker.disconnect();
    if (await exited(worker, RETIRE_GRACE_MS)) return;
    worker.process.kill('SIGTERM');
    if (!(await exited(worker, 3000))) worker.process.kill('SIGKILL');
  }

  async function roll() {
    if (rolling) return;
    rolling = true;
    const old = live();
    console.log(`SIGHUP: replacing ${old.length} workers one at a time`);
    for (const worker of old) {
      if (stopping) break;
      if (worker.isDead()) continue;
      const fresh = fork();
      await listening(fresh, LISTEN_WAIT_MS);
      console.log(`worker ${fresh.process.pid} listens; replacing ${worker.process.pid}`);
      await retire(worker);
    }
    console.log('rolling restart done');
    rolling = false;
  }

  cluster.on('fork', (worker) => {
    worker.startedAt = Date.now();
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers).length === 0) process.exit(0);
      return;
    }
    if (retiring.delete(worker.id)) return console.log(`worker ${worker.process.pid} retired`);
    console.log(`worker ${worker.process.pid} died (${signal ?? `exit ${code}`}); forking a new one`);
    // A worker that dies at once would otherwise be respawned in a tight loop.
    const lived = Date.now() - worker.startedAt;
    setTimeout(() => {
      if (!stopping && live().length < target) fork();
    }, lived < 1000 ? 1000 : 0);
  });
  for (let i = 0; i < WORKERS; i++) fork();
  console.log(`node-cluster primary ${WORKER_ID}: ${WORKERS} workers, http 8000, tcp 25000, scheduling ${SCHED}`);

  process.on('SIGHUP', () => void roll());
  process.on('SIGTTIN', () => {
    target += 1;
    console.log(`SIGTTIN: ${target} workers`);
    fork();
  });
  process.on('SIGTTOU', () => {
    const workers = live();
    if (workers.length <= 1) return console.log('SIGTTOU: one worker stays');
    target = Math.max(1, target - 1);
    const youngest = workers.reduce((a, b) => (b.startedAt > a.startedAt ? b : a));
    console.log(`SIGTTOU: ${target} workers`);
    void retire(youngest);
  });
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.once(signal, () => {
      stopping = true;
      const alive = Object.values(cluster.workers);
      if (alive.length === 0) process.exit(0);
      for (const worker of alive) worker.process.kill('SIGTERM');
      setTimeout(() => process.exit(0), 3000).unref(); // inside compose's 5 s grace
    });
  }
}

if (cluster.isPrimary) {
  // Node freezes the policy at the first fork: it must be set before.
  cluster.schedulingPolicy = POLICIES[SCHED];
  primary();
} else {
  const servers = await startServers();
  process.once('SIGTERM', async () => {
    await stopServers(servers);
    process.exit(0);
  });
  // Ctrl-C in a terminal reaches the whole process group; the primary decides.
  process.on('SIGINT', () => {});
  // The primary's SIGHUP/SIGTTIN/SIGTTOU are for it alone (a terminal would send them to all).
  for (const signal of ['SIGHUP', 'SIGTTIN', 'SIGTTOU']) process.on(signal, () => {});
}
