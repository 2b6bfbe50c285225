import { execa } from "execa";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { compose, type Deployment } from "../docker/compose.js";
import { FRONT_NODE_PORTS, type Swarm } from "./swarm-nodes.js";
import { ComposeConfigSchema, STACK_SERVICES, stackFromCompose } from "./swarm-stack.js";

/** A cell as a stack on the swarm's manager: deploy, wait until every task is healthy, remove. */

const CONVERGE_TIMEOUT_MS = 180_000;
const POLL_MS = 500;

interface Task {
  ID: string;
  NodeID: string;
  Slot?: number;
  Status: { State: string; Err?: string; ContainerStatus?: { ContainerID?: string } };
  DesiredState: string;
  ServiceID: string;
}

export const serviceName = (project: string, service: string) => `${project}_${service}`;

/** `docker <args>` against the swarm's manager. */
export function onManager(swarm: Swarm, args: string[], opts: { input?: string; timeoutMs?: number } = {}) {
  return execa("docker", args, {
    env: { DOCKER_HOST: `unix://${swarm.manager.socket}` },
    timeout: opts.timeoutMs ?? 120_000,
    all: true,
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
}

/** The running tasks of a stack's service. */
export async function runningTasks(swarm: Swarm, service: string): Promise<Task[]> {
  return (await swarm.manager.docker.listTasks({ filters: { service: [service], "desired-state": ["running"] } })) as Task[];
}

async function waitConverged(swarm: Swarm, d: Deployment): Promise<void> {
  const want: [string, number][] = [
    [serviceName(d.project, STACK_SERVICES.model), d.replicas],
    [serviceName(d.project, STACK_SERVICES.front), 1],
  ];
  const deadline = Date.now() + CONVERGE_TIMEOUT_MS;
  let last = "";
  while (Date.now() < deadline) {
    const states = await Promise.all(want.map(async ([s]) => runningTasks(swarm, s)));
    // A task with a healthcheck stays "starting" until it passes: "running" means healthy.
    if (states.every((tasks, i) => tasks.filter((t) => t.Status.State === "running").length === want[i]?.[1])) return;
    last = states
      .flat()
      .map((t) => `${t.Status.State}${t.Status.Err ? ` (${t.Status.Err})` : ""}`)
      .join(", ");
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new Error(`stack ${d.project} did not come up within ${CONVERGE_TIMEOUT_MS / 1000} s; tasks: ${last}`);
}

/** Deploy the cell's stack and wait until the model's replicas and the front are healthy; returns what Swarm dropped. */
export async function deployStack(swarm: Swarm, d: Deployment): Promise<string[]> {
  const config = ComposeConfigSchema.parse(JSON.parse((await compose(d, ["config", "--format", "json"])).stdout));
  const stack = stackFromCompose(config, { model: d.model, replicas: d.replicas, labels: d.labels ?? {}, frontPorts: FRONT_NODE_PORTS });
  const dir = await mkdtemp(path.join(os.tmpdir(), "fiblab-stack-"));
  try {
    const file = path.join(dir, "stack.json");
    await writeFile(file, JSON.stringify(stack.file, null, 2));
    // Images are on every node under their own names (swarm:up): never ask a registry for a digest.
    await onManager(swarm, ["stack", "deploy", "--detach=true", "--resolve-image", "never", "-c", file, d.project]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  await waitConverged(swarm, d);
  return stack.dropped;
}

/** Remove the stack and wait until its containers and network are gone from every node. */
export async function removeStack(swarm: Swarm, project: string): Promise<void> {
  await onManager(swarm, ["stack", "rm", project]).catch(() => undefined);
  const label = `com.docker.stack.namespace=${project}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const left = await Promise.all(
      swarm.nodes.map(async (n) => {
        const containers = await n.docker.listContainers({ all: true, filters: { label: [label] } }).catch(() => []);
        const networks = await n.docker.listNetworks({ filters: { label: [label] } }).catch(() => []);
        return containers.length + networks.length;
      }),
    );
    if (left.every((x) => x === 0)) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new Error(`stack ${project}: containers or its network still present 60 s after removal`);
}
