import Docker from "dockerode";
import { execa } from "execa";
import { docker } from "../../orchestrator/src/docker/client.js";
import { projectLabel } from "../../orchestrator/src/docker/sweep.js";
import type { Running } from "./deploy.js";
import { RELAY_MARKER } from "./direct.js";

/** The containers of one deployment, by compose service: the model's replicas and the front. */
export async function containersOf(lab: Running): Promise<{ model: Docker.ContainerInfo[]; front: Docker.ContainerInfo[] }> {
  const list = await docker.listContainers({ all: true, filters: { label: [projectLabel(lab.deployment.project)] } });
  const byService = (s: string) => list.filter((c) => c.Labels["com.docker.compose.service"] === s);
  return { model: byService(lab.deployment.model), front: byService("front") };
}

export async function modelContainer(lab: Running): Promise<Docker.Container> {
  const { model } = await containersOf(lab);
  if (!model[0]) throw new Error(`no container for ${lab.deployment.model}`);
  return docker.getContainer(model[0].Id);
}

/** One stats sample, answered at once ("one-shot": no second sample to compute rates from). */
function oneShotStats(c: Docker.Container): Promise<unknown> {
  return (c.stats as (o: object) => Promise<unknown>).call(c, { stream: false, "one-shot": true });
}

/** CPU time the container has used so far, in nanoseconds (cgroup counter, answered at once). */
export async function cpuNs(c: Docker.Container): Promise<number> {
  const s = (await oneShotStats(c)) as Docker.ContainerStats;
  return s.cpu_stats.cpu_usage.total_usage;
}

/** Processes in the container's pid cgroup right now (the engine's counter) and its limit. */
export async function pids(c: Docker.Container): Promise<{ current: number; limit: number }> {
  const s = (await oneShotStats(c)) as Docker.ContainerStats & {
    pids_stats?: { current?: number; limit?: number };
  };
  return { current: s.pids_stats?.current ?? -1, limit: s.pids_stats?.limit ?? -1 };
}

/**
 * The server's own processes (pid and command), leaving out what the lab itself runs inside
 * the container: healthchecks and the test relay.
 */
export async function serverProcesses(c: Docker.Container): Promise<Array<{ pid: string; cmd: string }>> {
  const top = (await c.top({ ps_args: "-eo pid,args" } as object)) as { Titles: string[]; Processes: string[][] };
  const pidCol = top.Titles.findIndex((t) => t === "PID");
  const cmdCol = top.Titles.findIndex((t) => t === "COMMAND" || t === "CMD");
  return top.Processes.map((p) => ({ pid: p[pidCol]!, cmd: p[cmdCol]! })).filter(
    (p) => !/fiblab\.health|health\.js|front-health/.test(p.cmd) && !p.cmd.includes(RELAY_MARKER) && !/^(python3 -c|node -e) /.test(p.cmd),
  );
}

export interface Liveness {
  running: boolean;
  restartCount: number;
  startedAt: string;
  status: string;
}

export async function liveness(c: Docker.Container): Promise<Liveness> {
  const i = await c.inspect();
  return { running: i.State.Running, restartCount: i.RestartCount, startedAt: i.State.StartedAt, status: i.State.Status };
}

/** Run a command in a container; stdout trimmed. */
export async function execIn(containerId: string, cmd: string[]): Promise<{ stdout: string; exitCode: number; stderr: string }> {
  const r = await execa("docker", ["exec", containerId, ...cmd], { reject: false, timeout: 30_000 });
  return { stdout: r.stdout.trim(), stderr: r.stderr.trim(), exitCode: r.exitCode ?? -1 };
}

/** The last lines of a container's log (stdout and stderr). */
export async function logs(containerId: string, tail = 200): Promise<string> {
  const r = await execa("docker", ["logs", "--tail", String(tail), containerId], { reject: false, all: true });
  return r.all ?? "";
}

/**
 * Tear a test deployment down quickly: SIGKILL first (these suites do not test graceful
 * shutdown, and a model that ignores SIGTERM would cost the 5 s grace period each time),
 * then the deployment's own down, which removes containers and network and sweeps leftovers.
 */
export async function fastDown(lab: Running | undefined): Promise<void> {
  if (!lab) return;
  const list = await docker.listContainers({ filters: { label: [projectLabel(lab.deployment.project)] } });
  await Promise.all(
    list.map((c) =>
      docker
        .getContainer(c.Id)
        .kill()
        .catch(() => undefined),
    ),
  );
  await lab.down();
}
