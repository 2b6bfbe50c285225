import { execa } from "execa";
import type Docker from "dockerode";
import { createOptions } from "../fleet/containers.js";
import type { RunningClient } from "../fleet/driver.js";
import type { ClientHost } from "../fleet/launch.js";
import type { ClientSpec } from "../fleet/plan.js";
import { nodeFor, type Swarm, type SwarmNode } from "./swarm-nodes.js";

/**
 * A load client as a container on a client node of the swarm, through that node's engine: the
 * container a single machine would run (same limits, hardening, environment), joined to the
 * cell's attachable overlay network, writing to a folder of the node that is copied back into
 * the archive's client folder once it has exited. fleet/launch.ts runs the fleet's steps (create
 * → start → release → wait → collect) through swarmClients as it does on one machine: the start
 * barrier holds across nodes because every node shares this machine's clock (START_AT) and k6
 * instances are resumed from here, through the API each client node publishes.
 */

/** Where client output folders live on a node (the node container's own filesystem). */
export const NODE_OUT_DIR = "/var/lib/fiblab-out";

export interface NodeClient extends RunningClient {
  node: SwarmNode;
  /** The client's output folder on its node. */
  nodeOut: string;
}

/**
 * Pure: the single-machine container options, with /out on the node's folder and an API port
 * (k6) published on the node's address on the swarm network, which this machine reaches, rather
 * than on a loopback this machine cannot see.
 */
export function nodeCreateOptions(spec: ClientSpec, network: string, address: string, nodeOut: string): Docker.ContainerCreateOptions {
  const options = createOptions(spec, network);
  const host = options.HostConfig ?? {};
  const bindings = Object.fromEntries(Object.keys(host.PortBindings ?? {}).map((port) => [port, [{ HostIp: address, HostPort: "" }]]));
  return {
    ...options,
    HostConfig: { ...host, Binds: [`${nodeOut}:/out`], ...(host.PortBindings ? { PortBindings: bindings } : {}) },
  };
}

/** Runs `docker exec <node> ...` through this machine's engine (the node is a container here). */
function onNodeContainer(node: SwarmNode, args: string[]) {
  return execa("docker", ["exec", node.name, ...args], { timeout: 60_000 });
}

export async function createOnNode(spec: ClientSpec, network: string, node: SwarmNode): Promise<NodeClient> {
  const nodeOut = `${NODE_OUT_DIR}/${spec.name}`;
  // The client runs as uid 10001: the folder is its to write, as on one machine.
  await onNodeContainer(node, ["install", "-d", "-m", "0777", nodeOut]);
  const container = await node.docker.createContainer(nodeCreateOptions(spec, network, node.address, nodeOut));
  return { spec, container, exitCode: null, node, nodeOut };
}

/** Copy what the client wrote on its node into its archive folder (beside the client.log streamed here). */
export async function copyBack(c: NodeClient): Promise<void> {
  await execa("docker", ["cp", `${c.node.name}:${c.nodeOut}/.`, c.spec.outDir], { timeout: 120_000 });
}

/** Remove a container of a node and the output folder a client of that name has there (if any). */
export async function removeOnNode(node: SwarmNode, id: string, name: string): Promise<void> {
  await node.docker
    .getContainer(id)
    .remove({ force: true, v: true })
    .catch(() => undefined);
  await onNodeContainer(node, ["rm", "-rf", `${NODE_OUT_DIR}/${name}`]).catch(() => undefined);
}

const removeFromNode = (c: NodeClient) => removeOnNode(c.node, c.container.id, c.spec.name);

/** Client k on client node k mod n (nodeFor), its output copied back before collection. */
export function swarmClients(swarm: Swarm): ClientHost {
  const onNode = (c: RunningClient) => c as NodeClient;
  return {
    create: (spec, network, k) => createOnNode(spec, network, nodeFor(k, swarm.clients)),
    beforeCollect: (c) => copyBack(onNode(c)),
    nodeOf: (c) => onNode(c).node.name,
    remove: (c) => removeFromNode(onNode(c)),
  };
}
