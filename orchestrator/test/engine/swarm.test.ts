import { describe, expect, it } from "vitest";
import { nodeCreateOptions } from "../../src/engine/swarm-clients.js";
import { assignNodes } from "../../src/engine/swarm-nodes.js";
import { restartCondition, stackFromCompose, tmpfsSize, type ComposeConfig } from "../../src/engine/swarm-stack.js";
import { statsBetween, type Tracked } from "../../src/engine/swarm-stats.js";
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
    expect(assignNodes(5, ["b", "c"])).toEqual(["b", "c", "b", "c", "b"]);
    expect(() => assignNodes(1, [])).toThrow();
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
  const base = { readAt: 1000, cpuNs: 1e9, periods: 10, throttledPeriods: 1, throttledNs: 1e6, memory: 100 };
  const t = (first?: typeof base, last?: typeof base): Tracked =>
    ({ id: "x", name: "m", role: "model", cpuLimit: 0.5, peak: 300, ...(first ? { first } : {}), ...(last ? { last } : {}) }) as Tracked;

  it("takes the window as the difference of the first and last reading", () => {
    const s = statsBetween(t(base, { readAt: 3000, cpuNs: 2e9, periods: 30, throttledPeriods: 6, throttledNs: 5e6, memory: 200 }));
    expect(s).toMatchObject({
      name: "m",
      role: "model",
      cpuLimit: 0.5,
      sampledSeconds: 2,
      cpuSeconds: 1,
      totalPeriods: 20,
      throttledPeriods: 5,
      memoryPeakBytes: 300,
    });
    expect(s.throttledSeconds).toBeCloseTo(0.004);
  });

  it("reports nothing used by a container never read", () => {
    expect(statsBetween(t())).toMatchObject({ cpuSeconds: 0, totalPeriods: 0, sampledSeconds: 0 });
  });
});
