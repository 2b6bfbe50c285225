import { describe, expect, it } from "vitest";
import { nodeCreateOptions } from "../../src/engine/swarm-clients.js";
import { nodeFor } from "../../src/engine/swarm-nodes.js";
import { restartCondition, stackFromCompose, tmpfsSize, type ComposeConfig } from "../../src/engine/swarm-stack.js";
import { mergeTicks, mergeWindows } from "../../src/engine/swarm-stats.js";
import type { SampledWindow } from "../../src/docker/sampler.js";
import type { ContainerStats } from "../../src/measure/container-stats.js";
import type { ReplicaTick } from "../../src/measure/timeseries.js";
import { apiAddress } from "../../src/fleet/drivers/k6.js";
import type { ClientSpec } from "../../src/fleet/plan.js";

const hardening = {
  user: "10001:10001",
  read_only: true,
  cap_drop: ["ALL"],
  security_opt: ["no-new-privileges:true"],
  tmpfs: ["/tmp:size=64m"],
};
const config: ComposeConfig = {
  services: {
    front: {
      ...hardening,
      image: "fiblab/front:latest",
      environment: { BALANCE: "round_robin" },
      labels: { "fiblab.role": "front" },
      deploy: { resources: { limits: { cpus: 1, memory: "268435456", pids: 64 } } },
    },
    "py-threads": {
      ...hardening,
      image: "fiblab/py-threads:latest",
      environment: { WORKERS: "2", FIB_MAX: "35" },
      healthcheck: { test: ["CMD", "python3", "-m", "fiblab.health"], interval: "2s", start_interval: "1s" },
      labels: { "fiblab.role": "model" },
      restart: "on-failure",
      cpuset: "0",
      deploy: { resources: { limits: { cpus: 0.5, memory: "536870912", pids: 256 } } },
    },
  },
};
const labels = { "fiblab.run": "r1", "fiblab.cell": "c1" };
const stack = stackFromCompose(config, { model: "py-threads", replicas: 2, labels, frontPorts: { http: 18080, tcp: 18081 } });
const services = stack.file.services as Record<string, Record<string, any>>;

describe("swarm stack", () => {
  it("deploys the model as `model`, dnsrr, on server nodes, with the topology's replicas and limits", () => {
    const m = services.model;
    expect(Object.keys(services).sort()).toEqual(["front", "model"]);
    expect(m?.image).toBe("fiblab/py-threads:latest");
    expect(m?.deploy).toMatchObject({
      endpoint_mode: "dnsrr",
      replicas: 2,
      placement: { constraints: ["node.labels.fiblab.role == server"] },
      resources: { limits: { cpus: "0.5", memory: "536870912b" } },
      restart_policy: { condition: "on-failure" },
    });
    expect(m?.environment).toEqual({ WORKERS: "2", FIB_MAX: "35" });
    expect(m?.labels).toEqual({ "fiblab.role": "model", ...labels });
    expect(m?.healthcheck).toEqual({ test: ["CMD", "python3", "-m", "fiblab.health"], interval: "2s" });
    expect(m?.volumes).toEqual([{ type: "tmpfs", target: "/tmp", tmpfs: { size: 64 * 1024 ** 2 } }]);
    expect(m).toMatchObject({ user: "10001:10001", read_only: true, cap_drop: ["ALL"] });
  });

  it("publishes the front in host mode and points it at `model`; the network is an attachable overlay", () => {
    const f = services.front;
    expect(f?.environment).toMatchObject({ MODEL_HOST: "model", BALANCE: "round_robin" });
    expect(f?.ports).toEqual([
      { target: 8080, published: 18080, protocol: "tcp", mode: "host" },
      { target: 25000, published: 18081, protocol: "tcp", mode: "host" },
    ]);
    expect(f?.deploy.replicas).toBe(1);
    expect(stack.file.networks).toEqual({ lab: { driver: "overlay", attachable: true, labels: { ...labels, "fiblab.role": "network" } } });
  });

  it("lists what Swarm does not carry over", () => {
    expect(stack.dropped).toEqual([
      "py-threads: security_opt no-new-privileges:true",
      "py-threads: cpuset 0",
      "py-threads: pids limit 256",
      "front: security_opt no-new-privileges:true",
      "front: pids limit 64",
    ]);
  });

  it("refuses a model compose does not have", () => {
    expect(() => stackFromCompose(config, { model: "nope", replicas: 1, labels, frontPorts: { http: 1, tcp: 2 } })).toThrow(
      /no service nope/,
    );
  });

  it("reads tmpfs sizes and maps restart policies", () => {
    expect(tmpfsSize("size=64m")).toBe(67108864);
    expect(tmpfsSize("mode=1777,size=2g")).toBe(2 * 1024 ** 3);
    expect(tmpfsSize("size=512")).toBe(512);
    expect(tmpfsSize("mode=1777")).toBeUndefined();
    expect([undefined, "no", "on-failure", "always", "unless-stopped"].map(restartCondition)).toEqual([
      "none",
      "none",
      "on-failure",
      "any",
      "any",
    ]);
  });
});

describe("swarm clients", () => {
  const spec: ClientSpec = {
    group: "g",
    clientIndex: 0,
    clientCount: 1,
    tool: "k6",
    loadModel: "open",
    image: "fiblab/k6:latest",
    name: "fiblab-r1-g-0",
    cmd: ["run"],
    env: { A: "1" },
    nanoCpus: 5e8,
    memoryBytes: 1 << 29,
    outDir: "/host/results/cells/c1/clients/g-0",
    labels,
    apiPort: 6565,
  };

  it("puts clients on client nodes in turn", () => {
    expect([0, 1, 2, 3, 4].map((k) => nodeFor(k, ["b", "c"]))).toEqual(["b", "c", "b", "c", "b"]);
    expect(() => nodeFor(0, [])).toThrow();
  });

  it("creates the single-machine container with /out on the node and the API on the node's address", () => {
    const o = nodeCreateOptions(spec, "stack_lab", "172.20.0.4", "/var/lib/fiblab-out/fiblab-r1-g-0");
    expect(o.HostConfig?.Binds).toEqual(["/var/lib/fiblab-out/fiblab-r1-g-0:/out"]);
    expect(o.HostConfig?.PortBindings).toEqual({ "6565/tcp": [{ HostIp: "172.20.0.4", HostPort: "" }] });
    expect(o.HostConfig).toMatchObject({ NetworkMode: "stack_lab", NanoCpus: 5e8, ReadonlyRootfs: true, CapDrop: ["ALL"] });
    expect(o.Labels).toEqual(labels);
    const noApi = nodeCreateOptions({ ...spec, apiPort: undefined }, "n", "172.20.0.4", "/x");
    expect(noApi.HostConfig?.PortBindings).toBeUndefined();
  });

  it("reaches a k6 API where it was published", () => {
    expect(apiAddress({ HostIp: "127.0.0.1", HostPort: "4000" })).toEqual({ host: "127.0.0.1", port: 4000 });
    expect(apiAddress({ HostIp: "0.0.0.0", HostPort: "4000" })).toEqual({ host: "127.0.0.1", port: 4000 });
    expect(apiAddress({ HostIp: "172.20.0.4", HostPort: "4001" })).toEqual({ host: "172.20.0.4", port: 4001 });
  });
});

describe("swarm stats", () => {
  const window = (node: string, ticks: ReplicaTick[], windowMs = 5000): SampledWindow => ({
    containers: [{ name: `${node}-c` } as ContainerStats],
    windowMs,
    series: [{ id: node, name: `${node}-c`, role: "model", samples: [] }],
    replicas: ticks,
  });
  const tick = (t: number, running: number, healthy = running): ReplicaTick => ({ t, running, healthy });

  it("keeps every node's containers and series, and the longest window", () => {
    const m = mergeWindows([window("a", [tick(1, 1)], 5000), window("b", [tick(1, 0)], 5100)]);
    expect(m.containers.map((c) => c.name)).toEqual(["a-c", "b-c"]);
    expect(m.series.map((s) => s.id)).toEqual(["a", "b"]);
    expect(m.windowMs).toBe(5100);
    expect(m.host).toBeUndefined();
  });

  it("counts replicas over the nodes that ran any, tick by tick", () => {
    const server1 = [tick(1000, 2), tick(2000, 2, 1), tick(3000, 1)];
    const server2 = [tick(1010, 1), tick(2010, 1)];
    const client = [tick(1005, 0), tick(2005, 0), tick(3005, 0)];
    expect(mergeTicks([server1, client, server2])).toEqual([tick(1010, 3), { t: 2010, running: 3, healthy: 2 }]);
    expect(mergeTicks([server1, client])).toEqual(server1);
    expect(mergeTicks([client])).toEqual(client);
    expect(mergeTicks([])).toEqual([]);
  });
});
