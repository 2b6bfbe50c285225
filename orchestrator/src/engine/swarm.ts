import type { Deployment } from "../docker/compose.js";
import type { LaunchHooks } from "../fleet/launch.js";
import type { FleetSpec } from "../fleet/plan.js";
import type { Engine, Placement } from "./engine.js";
import { deployStack, removeStack, runningTasks, serviceName } from "./swarm-deploy.js";
import { removeOnNode } from "./swarm-clients.js";
import { runSwarmFleet } from "./swarm-fleet.js";
import { DEFAULT_SWARM, discoverSwarm, forwardedPort, FRONT_NODE_PORTS, type Swarm } from "./swarm-nodes.js";
import { SwarmSampler } from "./swarm-stats.js";
import { STACK_SERVICES } from "./swarm-stack.js";

/**
 * The Swarm engine: a cell's model and front as a stack on the server node(s), its clients as
 * containers on the client nodes (on the stack's attachable overlay network), stats from every
 * node. The swarm itself is `npm run swarm:up`'s; this engine only finds it.
 */
export class SwarmEngine implements Engine {
  readonly name = "swarm" as const;
  /** Compose options Swarm did not take, by project (the report's "what did not carry over"). */
  readonly dropped = new Map<string, string[]>();
  private swarm: Promise<Swarm> | undefined;

  /** prefix: the swarm's name (scripts/swarm: FIBLAB_SWARM_PREFIX). */
  constructor(private readonly prefix = DEFAULT_SWARM) {}

  /** The swarm, found once. */
  nodes(): Promise<Swarm> {
    this.swarm ??= discoverSwarm(this.prefix);
    return this.swarm;
  }

  async endpoints() {
    const swarm = await this.nodes();
    const server = swarm.servers[0] as Swarm["servers"][number];
    return { http: await forwardedPort(server, FRONT_NODE_PORTS.http), tcp: await forwardedPort(server, FRONT_NODE_PORTS.tcp) };
  }

  async deploy(d: Deployment): Promise<void> {
    this.dropped.set(d.project, await deployStack(await this.nodes(), d));
  }

  async placements(d: Deployment): Promise<Placement[]> {
    const swarm = await this.nodes();
    const described = (await swarm.manager.docker.listNodes()) as { ID: string; Description?: { Hostname?: string } }[];
    const hostOf = new Map(described.map((n) => [n.ID, n.Description?.Hostname ?? n.ID]));
    const out: Placement[] = [];
    for (const role of ["model", "front"] as const) {
      const service = serviceName(d.project, STACK_SERVICES[role]);
      for (const t of await runningTasks(swarm, service)) {
        out.push({ role, name: `${service}.${t.Slot ?? t.ID}.${t.ID}`, node: hostOf.get(t.NodeID) ?? t.NodeID });
      }
    }
    return out;
  }

  network(d: Deployment): string {
    return `${d.project}_lab`;
  }

  async runFleet(spec: FleetSpec, hooks?: LaunchHooks) {
    return runSwarmFleet(await this.nodes(), spec, hooks);
  }

  async sampler(label: string) {
    return new SwarmSampler(await this.nodes(), label);
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
      const networks = await manager.listNetworks({ filters }).catch(() => []);
      if (networks.length === 0) return;
      await Promise.all(
        networks.map((n) =>
          manager
            .getNetwork(n.Id)
            .remove()
            .catch(() => undefined),
        ),
      );
    }
  }
}
