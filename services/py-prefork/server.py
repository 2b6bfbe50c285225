"""py-prefork: a master pre-forks WORKERS processes; each worker accepts and serves.

The master never serves. It forks the workers, replaces any that dies, and resizes the set on
signals, as Apache's prefork MPM and gunicorn's arbiter do:

    SIGTTIN   one worker more
    SIGTTOU   one worker fewer (at least one stays); it finishes its connection first
    SIGHUP    a rolling restart: the workers are replaced one at a time (fork the new one, then
              SIGTERM one old one, which finishes its connection, and wait for it), so capacity
              never drops below WORKERS
    SIGTERM, SIGINT   stop every worker, then exit

Each worker serves one connection at a time, to its end (like py-sync), so WORKERS is the
number of connections served at once, and the front keeps no idle connections to this model.

Sockets: by default the master opens the listening sockets before forking and every worker
accepts on the same ones. Every idle worker wakes for a new connection and one wins the accept
(the thundering herd; the others get EAGAIN). With REUSEPORT=1 each worker opens its own
SO_REUSEPORT sockets and the kernel hashes each new connection to one of them: no herd, but a
connection can queue behind a busy worker while another idles, and connections still queued on a
dying worker's socket are reset.
"""

import os
import signal
import time
import traceback

from fiblab import config
from fiblab.blocking import accept_forever, serve_connection
from fiblab.net import child_exit_status, log, open_listeners, reset_signals_in_child

REUSEPORT = config.knob_bool("REUSEPORT")
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
MASTER_SIGNALS = {signal.SIGCHLD, signal.SIGTTIN, signal.SIGTTOU, signal.SIGHUP} | STOP_SIGNALS
STOP_GRACE_S = 3.0  # compose allows 5 s between SIGTERM and SIGKILL
ROLL_WAIT_S = 30.0  # how long a rolling restart waits for an old worker's connection to end


# The worker


class Worker:
    """Serve connections until SIGTERM; a connection in progress is finished first."""

    def __init__(self, listeners):
        self.listeners = listeners
        self.busy = False
        self.stopping = False

    def on_sigterm(self, signum, frame):
        if not self.busy:
            raise SystemExit(0)
        self.stopping = True

    def serve(self, conn, protocol):
        self.busy = True
        serve_connection(conn, protocol)
        self.busy = False
        if self.stopping:
            raise SystemExit(0)

    def run(self):
        reset_signals_in_child()
        signal.signal(signal.SIGTERM, self.on_sigterm)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the master decides; Ctrl-C reaches us all
        listeners = self.listeners or open_listeners(reuseport=True)
        for listener in listeners:
            listener.setblocking(False)  # so a worker that loses the herd's race gets EAGAIN
        accept_forever(listeners, self.serve)


def spawn(listeners) -> int:
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            Worker(listeners).run()
        except SystemExit:
            pass
        except BaseException:
            log("worker failed:\n" + traceback.format_exc())
            code = 1
        finally:
            os._exit(code)  # never return into the master's loop
    return pid


# The master


class Master:
    def __init__(self, workers: int):
        self.target = max(1, workers)
        self.workers = {}  # pid -> time it started
        self.retiring = set()  # pids sent SIGTERM by TTOU
        self.listeners = None if REUSEPORT else open_listeners()

    def live(self) -> int:
        return len(self.workers) - len(self.retiring)

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            started = self.workers.pop(pid, None)
            if started is None:
                continue
            expected = pid in self.retiring
            self.retiring.discard(pid)
            log(
                f"worker {pid} exited ({child_exit_status(status)}){'' if expected else '; respawning'}"
            )
            if not expected and time.monotonic() - started < 1.0:
                time.sleep(
                    1.0
                )  # a worker that dies at once would otherwise be respawned in a hot loop

    def adjust(self) -> None:
        while self.live() < self.target:
            pid = spawn(self.listeners)
            self.workers[pid] = time.monotonic()
            log(f"worker {pid} spawned ({self.live()} of {self.target})")
        while self.live() > self.target:
            pid = max(set(self.workers) - self.retiring, key=self.workers.get)  # the youngest
            self.retiring.add(pid)
            os.kill(pid, signal.SIGTERM)
            log(f"worker {pid} retiring ({self.live()} of {self.target})")

    def run(self) -> None:
        mode = "its own SO_REUSEPORT sockets" if REUSEPORT else "shared listening sockets"
        log(f"py-prefork master: {self.target} workers on {mode}")
        while True:
            self.reap()
            self.adjust()
            signum = signal.sigwaitinfo(MASTER_SIGNALS).si_signo
            if signum == signal.SIGHUP:
                signum = self.roll()
            if signum in STOP_SIGNALS:
                return self.stop(signal.Signals(signum).name)
            if signum == signal.SIGTTIN:
                self.target += 1
            elif signum == signal.SIGTTOU:
                self.target = max(1, self.target - 1)

    def roll(self) -> int | None:
        """SIGHUP: replace every worker, one at a time. Returns a stop signal that came meanwhile."""
        old = [pid for pid in self.workers if pid not in self.retiring]
        log(f"SIGHUP: replacing {len(old)} workers one at a time")
        for pid in old:
            if pid not in self.workers:
                continue  # it died meanwhile and was replaced already
            new = spawn(self.listeners)
            self.workers[new] = time.monotonic()
            self.retiring.add(pid)
            os.kill(pid, signal.SIGTERM)
            log(f"worker {new} spawned to replace {pid}, which is retiring")
            stop = self.wait_for(pid)
            if stop is not None:
                return stop
        log("rolling restart done")
        return None

    def wait_for(self, pid: int) -> int | None:
        """Wait until a retiring worker is gone (killed after ROLL_WAIT_S), keeping the count."""
        deadline = time.monotonic() + ROLL_WAIT_S
        while pid in self.workers:
            left = deadline - time.monotonic()
            if left <= 0:
                log(f"worker {pid} still busy after {ROLL_WAIT_S} s: killing it")
                os.kill(pid, signal.SIGKILL)
                deadline = time.monotonic() + STOP_GRACE_S
                left = STOP_GRACE_S
            info = signal.sigtimedwait({signal.SIGCHLD} | STOP_SIGNALS, left)
            if info is not None and info.si_signo in STOP_SIGNALS:
                return info.si_signo
            self.reap()
            self.adjust()
        return None

    def stop(self, why: str) -> None:
        log(f"{why}: stopping {len(self.workers)} workers")
        for pid in self.workers:
            os.kill(pid, signal.SIGTERM)
        self.retiring.update(self.workers)
        deadline = time.monotonic() + STOP_GRACE_S
        while self.workers and (left := deadline - time.monotonic()) > 0:
            signal.sigtimedwait({signal.SIGCHLD}, left)
            self.reap()
        for pid in self.workers:
            log(f"worker {pid} still busy after {STOP_GRACE_S} s: killing it")
            os.kill(pid, signal.SIGKILL)
        log("master exiting")


def main():
    # The master takes its signals synchronously: they stay blocked (pending) until
    # sigwaitinfo picks them up one at a time, so no handler ever interrupts the master's own
    # bookkeeping. Workers unblock them first thing (reset_signals_in_child).
    signal.pthread_sigmask(signal.SIG_BLOCK, MASTER_SIGNALS)
    Master(config.knob_int("WORKERS")).run()


if __name__ == "__main__":
    main()
