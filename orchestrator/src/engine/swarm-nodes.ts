import path from "node:path";
import Docker from "dockerode";
import { docker } from "../docker/client.js";
import { LABEL, labelFilter } from "../docker/labels.js";
import { UserError } from "../errors.js";

/**
 * The swarm `npm run swarm:up` made (scripts/swarm/): its node containers on this machine, each
 * node's engine API (a socket the node serves into a host folder), address and role. The values
 * below are the scripts' (scripts/swarm/common.sh).
 */

/**
 * The swarm's name (FIBLAB_SWARM_PREFIX for the scripts): its nodes are <prefix>-1, -2, ...,
 * its network is <prefix>, each node's API socket is /run/<prefix>/<node>/docker.sock.
 */
export const DEFAULT_SWARM = "fiblab-swarm";
/** Node-side ports the front is published on (host mode), forwarded to 127.0.0.1 by swarm:up. */
export const FRONT_NODE_PORTS = { http: 18080, tcp: 18081 } as const;

export interface SwarmNode {
  /** Container name = the node's host name in the swarm. */
  name: string;
  /** The node's engine. */
  docker: Docker;
  socket: string;
  /** Its address on the swarm network (reachable from this machine). */
  address: string;
  /** fiblab.role node label: server or client. */
  role: string | undefined;
  manager: boolean;
}

export interface Swarm {
  nodes: SwarmNode[];
  manager: SwarmNode;
  servers: SwarmNode[];
  clients: SwarmNode[];
}

const nameOf = (c: Docker.ContainerInfo) => (c.Names[0] ?? c.Id).replace(/^\//, "");

/** The swarm's nodes, or a UserError naming the command that makes one. */
export async function discoverSwarm(prefix = DEFAULT_SWARM): Promise<Swarm> {
  const all = await docker.listContainers({ filters: { label: [labelFilter(LABEL.role, "swarm-node")] } });
  const list = all.filter((c) => new RegExp(`^${prefix}-\\d+$`).test(nameOf(c)));
  if (list.length === 0) throw new UserError(`no swarm '${prefix}' is up on this machine: run \`npm run swarm:up\` first`);
  const nodes = await Promise.all(
    list.map(async (c): Promise<SwarmNode> => {
      const name = nameOf(c);
      const socket = path.join("/run", prefix, name, "docker.sock");
      const engine = new Docker({ socketPath: socket });
      const info = (await engine.info()) as { Swarm?: { ControlAvailable?: boolean } };
      const address = c.NetworkSettings.Networks[prefix]?.IPAddress ?? "";
      return { name, docker: engine, socket, address, role: undefined, manager: info.Swarm?.ControlAvailable === true };
    }),
  );
  const manager = nodes.find((n) => n.manager);
  if (!manager) throw new UserError("the swarm has no manager node: run `npm run swarm:down && npm run swarm:up`");
  const described = (await manager.docker.listNodes()) as {
    Description?: { Hostname?: string };
    Spec?: { Labels?: Record<string, string> };
  }[];
  for (const d of described) {
    const node = nodes.find((n) => n.name === d.Description?.Hostname);
    if (node) node.role = d.Spec?.Labels?.[LABEL.role];
  }
  nodes.sort((a, b) => a.name.localeCompare(b.name, "en", { numeric: true }));
  const servers = nodes.filter((n) => n.role === "server");
  const clients = nodes.filter((n) => n.role === "client");
  if (servers.length === 0 || clients.length === 0)
    throw new UserError("the swarm needs a server node and a client node (npm run swarm:up)");
  return { nodes, manager, servers, clients };
}

/** The host port on 127.0.0.1 that forwards to a node port of a node container. */
export async function forwardedPort(node: SwarmNode, nodePort: number): Promise<number> {
  const info = await docker.getContainer(node.name).inspect();
  const binding = info.NetworkSettings.Ports?.[`${nodePort}/tcp`]?.[0];
  if (!binding) throw new UserError(`${node.name} does not forward port ${nodePort}: run \`npm run swarm:down && npm run swarm:up\``);
  return Number(binding.HostPort);
}

/** Pure: the node of the k-th client, in turn (client k on node k mod n). */
export function nodeFor<T>(k: number, nodes: readonly T[]): T {
  if (nodes.length === 0) throw new Error("no client node");
  return nodes[k % nodes.length] as T;
}
