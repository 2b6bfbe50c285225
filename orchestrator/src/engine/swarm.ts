import { execa } from "execa";
import type { Deployment } from "../docker/compose.js";
import { sweepByLabel } from "../docker/sweep.js";
import { launchFleet, type LaunchHooks } from "../fleet/launch.js";
import type { FleetSpec } from "../fleet/plan.js";
import type { Scenario } from "../scenario/schema.js";
import { clientPlacements, type Engine, type EngineInfo, type Placement } from "./engine.js";
import { deployStack, removeStack, runningTasks, serviceName } from "./swarm-deploy.js";
import { removeOnNode, swarmClients } from "./swarm-clients.js";
import { DEFAULT_SWARM, discoverSwarm, forwardedPort, FRONT_NODE_PORTS, type Swarm } from "./swarm-nodes.js";
import { swarmSampler } from "./swarm-stats.js";
import { STACK_SERVICES } from "./swarm-stack.js";

/** Pure: what of a scenario a swarm cannot carry out, one reason each. */
export function swarmUnsupported(scenario: Pick<Scenario, "workloads" | "topologies">): string[] {
  const events = scenario.workloads
    .filter((w) => w.events.length > 0)
    .map((w) => `workload '${w.name}' has scripted events, which act through this machine's engine and compose`);
  const pinned = scenario.topologies.filter((t) => t.cpuset !== undefined).map((t) => `topology '${t.id}' pins CPUs (cpuset)`);
  return [...events, ...pinned];
}

/**
 * The Swarm engine: a cell's model and front as a stack on the server node(s), its clients as
 * containers on the client nodes (on the stack's attachable overlay network), stats from every
 * node. The swarm itself is `npm run swarm:up`'s; this engine only finds it.
 */
export class SwarmEngine implements Engine {
  readonly name = "swarm" as const;
  /** Compose options Swarm did not take, by project (the report's "what did not carry over"). */
  private readonly droppedBy = new Map<string, string[]>();
  private swarm: Promise<Swarm> | undefined;

  /** prefix: the swarm's name (scripts/swarm: FIBLAB_SWARM_PREFIX). */
  constructor(private readonly prefix = DEFAULT_SWARM) {}

  /** The swarm, found once. */
  nodes(): Promise<Swarm> {
    this.swarm ??= discoverSwarm(this.prefix);
    return this.swarm;
  }

  unsupported(scenario: Scenario): string[] {
    return swarmUnsupported(scenario);
  }

  async describe(): Promise<EngineInfo> {
    const swarm = await this.nodes();
    const nodes = await Promise.all(
      swarm.nodes.map(async (n) => ({
        name: n.name,
        role: `${n.role ?? "none"}${n.manager ? ", manager" : ""}`,
        docker: await n.docker.version().then(
          (v) => v.Version,
          () => "unknown",
        ),
      })),
    );
    return { name: "swarm", nodes };
  }

  async endpoints() {
    const swarm = await this.nodes();
    const server = swarm.servers[0] as Swarm["servers"][number];
    return { http: await forwardedPort(server, FRONT_NODE_PORTS.http), tcp: await forwardedPort(server, FRONT_NODE_PORTS.tcp) };
  }

  async deploy(d: Deployment): Promise<void> {
    this.droppedBy.set(d.project, await deployStack(await this.nodes(), d));
  }

  dropped(d: Deployment): string[] {
    return this.droppedBy.get(d.project) ?? [];
  }

  /** The host name of each swarm node, by its node id (what tasks name). */
  private async hostNames(): Promise<Map<string, string>> {
    const described = (await (await this.nodes()).manager.docker.listNodes()) as { ID: string; Description?: { Hostname?: string } }[];
    return new Map(described.map((n) => [n.ID, n.Description?.Hostname ?? n.ID]));
  }

  async placements(d: Deployment): Promise<Placement[]> {
    const swarm = await this.nodes();
    const hostOf = await this.hostNames();
    const out: Placement[] = [];
    for (const role of ["model", "front"] as const) {
      const service = serviceName(d.project, STACK_SERVICES[role]);
      for (const t of await runningTasks(swarm, service)) {
        out.push({ role, name: `${service}.${t.Slot ?? t.ID}.${t.ID}`, node: hostOf.get(t.NodeID) ?? t.NodeID });
      }
    }
    return out;
  }

  /** In the container of the model's first running task, through the engine of the node it runs on. */
  async execInModel(d: Deployment, cmd: string[], opts: { workdir: string; timeoutMs: number }): Promise<string> {
    const swarm = await this.nodes();
    const tasks = await runningTasks(swarm, serviceName(d.project, STACK_SERVICES.model));
    const task = tasks.sort((a, b) => (a.Slot ?? 0) - (b.Slot ?? 0)).find((t) => t.Status.ContainerStatus?.ContainerID);
    const host = task && (await this.hostNames()).get(task.NodeID);
    const node = swarm.nodes.find((n) => n.name === host);
    if (!task || !node) throw new Error(`${d.project}: no running model task on a node of the swarm`);
    const id = task.Status.ContainerStatus?.ContainerID as string;
    const r = await execa("docker", ["exec", "-w", opts.workdir, id, ...cmd], {
      env: { DOCKER_HOST: `unix://${node.socket}` },
      timeout: opts.timeoutMs,
      all: true,
    });
    return r.stdout;
  }

  network(d: Deployment): string {
    return `${d.project}_lab`;
  }

  async runFleet(spec: FleetSpec, hooks?: LaunchHooks) {
    const outcome = await launchFleet(spec, hooks, swarmClients(await this.nodes()));
    return { ...outcome, placements: clientPlacements(outcome) };
  }

  async sampler(label: string) {
    return swarmSampler(await this.nodes(), label);
  }

  async teardown(d: Pick<Deployment, "project">): Promise<void> {
    await removeStack(await this.nodes(), d.project);
  }

  /** Services, containers (and client folders) and networks with the label, on every node. */
  async sweep(label: string): Promise<void> {
    const swarm = await this.nodes();
    const { docker: manager } = swarm.manager;
    const filters = { label: [label] };
    const services = await manager.listServices({ filters }).catch(() => []);
    await Promise.all(
      services.map((s) =>
        manager
          .getService(s.ID as string)
          .remove()
          .catch(() => undefined),
      ),
    );
    for (const node of swarm.nodes) {
      const containers = await node.docker.listContainers({ all: true, filters }).catch(() => []);
      await Promise.all(containers.map((c) => removeOnNode(node, c.Id, (c.Names[0] ?? c.Id).replace(/^\//, ""))));
    }
    // A network goes once the swarm has stopped the tasks of the services removed above.
    for (let deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 500))) {
      const { networks } = await sweepByLabel(label, manager).catch(() => ({ networks: 0 }));
      if (networks === 0) return;
    }
  }
}
