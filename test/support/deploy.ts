import { randomBytes } from "node:crypto";
import { down, up, scale, type Deployment } from "../../orchestrator/src/docker/compose.js";
import { freePort } from "../../orchestrator/src/docker/ports.js";
import { projectLabel, sweepByLabel } from "../../orchestrator/src/docker/sweep.js";
import { loadCatalog, findModel } from "../../orchestrator/src/models/catalog.js";

/** A model running behind its own front, on ports of its own, for one test file. */
export interface Running {
  deployment: Deployment;
  httpPort: number;
  tcpPort: number;
  baseUrl: string;
  scale(replicas: number): Promise<void>;
  down(): Promise<void>;
}

export async function deployModel(model: string, opts: { replicas?: number; env?: Record<string, string> } = {}): Promise<Running> {
  const manifest = findModel(await loadCatalog(), model);
  const [httpPort, tcpPort] = [await freePort(), await freePort()];
  const deployment: Deployment = {
    project: `fltest-${model}-${randomBytes(3).toString("hex")}`,
    model,
    replicas: opts.replicas ?? 1,
    env: {
      CPUS: "1",
      UPSTREAM_KEEPALIVE: manifest.front.upstreamKeepalive ? "32" : "0",
      ...opts.env,
    },
    httpPort,
    tcpPort,
  };
  try {
    await up(deployment);
  } catch (err) {
    await teardown(deployment);
    throw err;
  }
  return {
    deployment,
    httpPort,
    tcpPort,
    baseUrl: `http://127.0.0.1:${httpPort}`,
    scale: async (replicas) => {
      await scale(deployment, replicas);
      deployment.replicas = replicas;
    },
    down: () => teardown(deployment),
  };
}

async function teardown(d: Deployment): Promise<void> {
  await down(d);
  await sweepByLabel(projectLabel(d.project));
}

/** Containers (running or not) and networks carrying a label filter, "key" or "key=value". */
export async function labelled(label: string): Promise<number> {
  const { docker } = await import("../../orchestrator/src/docker/client.js");
  const filters = { label: [label] };
  const c = await docker.listContainers({ all: true, filters });
  const n = await docker.listNetworks({ filters });
  return c.length + n.length;
}

/** Containers and networks of a compose project still present (should be zero after down). */
export function leftovers(project: string): Promise<number> {
  return labelled(projectLabel(project));
}
