import type Docker from "dockerode";
import { describe, expect, it } from "vitest";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { docker } from "../../orchestrator/src/docker/client.js";
import { servicesDir } from "../../orchestrator/src/models/catalog.js";
import { httpGet, tcpLines } from "../support/clients.js";
import { containersOf, execIn, pids, serverProcesses } from "../support/containers.js";
import { modelsUnderTest } from "../support/models.js";
import { sleep, type Conn } from "../support/raw.js";
import { expectUnharmed, useModel, none } from "../support/suite.js";

// The hardening of docs/CONVENTIONS.md, on every model of the catalog (MODELS=a,b narrows) and
// its front, read from `docker inspect` and checked from inside the running containers; and for
// a fork-per-connection model (a MAX_CHILDREN knob), that more connections than its cap cannot
// make it fork without bound.

const models = await modelsUnderTest();
const FORK_CAP = 8;

async function inspectAll(ids: string[]): Promise<Docker.ContainerInspectInfo[]> {
  return Promise.all(ids.map((id) => docker.getContainer(id).inspect()));
}

/** Fields of /proc/<pid>/status inside the container, e.g. CapEff, NoNewPrivs, Uid. */
async function procStatus(id: string, pid = "1"): Promise<Record<string, string>> {
  const r = await execIn(id, ["cat", `/proc/${pid}/status`]);
  expect(r.exitCode, `cat /proc/${pid}/status: ${r.stderr}`).toBe(0);
  return Object.fromEntries(r.stdout.split("\n").map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()]));
}

function checkConfig(i: Docker.ContainerInspectInfo, role: string) {
  const name = `${role} ${i.Name}`;
  const h = i.HostConfig;
  expect(i.Config.User, `${name}: Config.User`).toMatch(/^10001(:10001)?$/);
  expect(h.Privileged, `${name}: Privileged`).toBe(false);
  expect(h.ReadonlyRootfs, `${name}: ReadonlyRootfs`).toBe(true);
  expect(Object.keys(h.Tmpfs ?? {}), `${name}: tmpfs`).toContain("/tmp");
  expect(h.CapDrop ?? [], `${name}: CapDrop`).toContain("ALL");
  expect(h.CapAdd ?? [], `${name}: CapAdd`).toEqual([]);
  expect(
    (h.SecurityOpt ?? []).some((o: string) => /^no-new-privileges(:true)?$/.test(o)),
    `${name}: SecurityOpt ${h.SecurityOpt}`,
  ).toBe(true);
  expect(h.Memory ?? 0, `${name}: Memory limit`).toBeGreaterThan(0);
  expect(h.PidsLimit ?? 0, `${name}: PidsLimit`).toBeGreaterThan(0);
  expect((h.NanoCpus ?? 0) > 0 || (h.CpuQuota ?? 0) > 0, `${name}: a CPU limit (NanoCpus ${h.NanoCpus}, CpuQuota ${h.CpuQuota})`).toBe(
    true,
  );
  // Published ports: on loopback only, as configured and as actually bound.
  for (const [port, bindings] of Object.entries(h.PortBindings ?? {})) {
    for (const b of (bindings as Array<{ HostIp: string }> | null) ?? [])
      expect(b.HostIp, `${name}: ${port} configured on`).toBe("127.0.0.1");
  }
  for (const [port, bindings] of Object.entries(i.NetworkSettings.Ports ?? {})) {
    for (const b of bindings ?? []) expect(b.HostIp, `${name}: ${port} bound on`).toBe("127.0.0.1");
  }
}

/** Inside the running container: not root, no capabilities, no new privileges, / read-only, /tmp writable. */
async function checkRuntime(id: string, name: string) {
  expect((await execIn(id, ["id", "-u"])).stdout, `${name}: id -u`).not.toBe("0");
  const top = (await docker.getContainer(id).top({ ps_args: "-eo uid,pid,args" } as object)) as { Titles: string[]; Processes: string[][] };
  const uidCol = top.Titles.indexOf("UID");
  for (const p of top.Processes) expect(p[uidCol], `${name}: process ${p.join(" ")} runs as`).not.toMatch(/^(0|root)$/);
  const s = await procStatus(id);
  expect(s.CapEff, `${name}: effective capabilities of pid 1`).toMatch(/^0+$/);
  expect(s.CapBnd, `${name}: bounding set of pid 1`).toMatch(/^0+$/);
  expect(s.NoNewPrivs, `${name}: NoNewPrivs of pid 1`).toBe("1");
  expect(s.Uid?.split(/\s+/)[0], `${name}: uid of pid 1`).not.toBe("0");
  const root = await execIn(id, ["sh", "-c", "echo x > /fiblab-probe"]);
  expect(root.exitCode, `${name}: writing to / must fail`).not.toBe(0);
  const tmp = await execIn(id, ["sh", "-c", "echo x > /tmp/fiblab-probe && rm /tmp/fiblab-probe"]);
  expect(tmp.exitCode, `${name}: writing to /tmp: ${tmp.stderr}`).toBe(0);
}

describe.each(models.map((m) => [m.name, m] as const))("%s hardening", (_name, manifest) => {
  const forkCapped = manifest.knobs.MAX_CHILDREN !== undefined;
  const t = useModel(manifest, { env: forkCapped ? { MAX_CHILDREN: String(FORK_CAP) } : {} });

  it("model and front run with the hardening of CONVENTIONS.md (docker inspect)", async () => {
    const { model, front } = await containersOf(t.lab);
    expect(model.length).toBeGreaterThan(0);
    expect(front.length).toBe(1);
    for (const i of await inspectAll(model.map((c) => c.Id))) {
      checkConfig(i, "model");
      expect(Object.keys(i.HostConfig.PortBindings ?? {}), "a model publishes no port: clients go through the front").toEqual([]);
    }
    for (const i of await inspectAll(front.map((c) => c.Id))) {
      checkConfig(i, "front");
      expect(Object.keys(i.HostConfig.PortBindings ?? {}).sort()).toEqual(["25000/tcp", "8080/tcp"]);
    }
  });

  it("every knob of the manifest reaches the container with the manifest's default, and the image carries that manifest", async () => {
    const { model } = await containersOf(t.lab);
    const set = forkCapped ? ["MAX_CHILDREN"] : [];
    for (const i of await inspectAll(model.map((c) => c.Id))) {
      const env = new Map((i.Config.Env ?? []).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
      for (const [knob, spec] of Object.entries(manifest.knobs)) {
        if (!set.includes(knob)) expect(env.get(knob), `${manifest.name}: ${knob}`).toBe(String(spec.default));
      }
      // The services read their own defaults from it (fiblab.config, node-common), so the two cannot drift.
      const shipped = await execIn(i.Id, ["cat", "/app/model.json"]);
      expect(JSON.parse(shipped.stdout).knobs, `${manifest.name}: /app/model.json`).toEqual(
        JSON.parse(await readFile(path.join(servicesDir, manifest.name, "model.json"), "utf8")).knobs,
      );
    }
  });

  it("model and front are unprivileged inside (uid, capabilities, no-new-privs, read-only /, writable /tmp)", async () => {
    const { model, front } = await containersOf(t.lab);
    for (const c of model) await checkRuntime(c.Id, `model ${c.Names[0]}`);
    for (const c of front) await checkRuntime(c.Id, `front ${c.Names[0]}`);
  });

  (forkCapped && manifest.protocols.includes("tcp") ? it : none)(
    `forks at most MAX_CHILDREN=${FORK_CAP} children for 20 connections, keeps serving, stays under its pids limit`,
    async () => {
      const c = docker.getContainer(t.containerId);
      // Children already serving the front's idle pooled upstream connections (its healthcheck
      // goes through the model): they count against the cap too.
      const before = (await serverProcesses(c)).length;
      const conns: Conn[] = [];
      let maxServer = 0;
      let maxPids = 0;
      let atOnceSeen = 0;
      const sample = async () => {
        maxServer = Math.max(maxServer, (await serverProcesses(c)).length);
        maxPids = Math.max(maxPids, (await pids(c)).current);
      };
      try {
        for (let i = 0; i < 20; i++) {
          const conn = await t.front.tcp.open();
          conn.write("1\n");
          conns.push(conn);
          if (i % 4 === 3) await sample();
        }
        await sleep(500);
        await sample();
        const answered = () => conns.filter((x) => x.received.toString() === "1\n");
        // The cap is being served, less the children that hold the front's pooled connections
        // (and a healthcheck's, at that moment); the rest wait in the backlog, not refused.
        const atOnce = answered().length;
        atOnceSeen = atOnce;
        expect(atOnce, "connections served at once").toBeLessThanOrEqual(FORK_CAP);
        expect(atOnce, "connections served at once").toBeGreaterThanOrEqual(FORK_CAP - (before - 1) - 1);
        expect(conns.filter((x) => x.closed).length, "none refused or dropped").toBe(0);
        // Release the served ones: the waiting ones are served in turn, never more at once.
        const done = new Set<Conn>();
        for (let round = 0; round < 5 && done.size < 20; round++) {
          for (const x of answered()) {
            if (!done.has(x)) {
              x.destroy();
              done.add(x);
            }
          }
          await Promise.all(conns.filter((x) => !done.has(x)).map((x) => x.waitFor((b) => b.toString() === "1\n", 300)));
          await sample();
        }
        expect(done.size, "all 20 connections served in the end").toBe(20);
      } finally {
        conns.forEach((x) => x.destroy());
      }
      const { limit } = await pids(c);
      console.log(
        `${manifest.name}: ${before} server processes before; ${atOnceSeen} of 20 connections served at once; at most ${maxServer} server processes (cap ${FORK_CAP} + parent), ${maxPids} pids (limit ${limit})`,
      );
      expect(maxServer, "server processes: the parent and at most MAX_CHILDREN children").toBeLessThanOrEqual(FORK_CAP + 1);
      expect(maxPids, "pids in the container (healthchecks included)").toBeLessThanOrEqual(FORK_CAP + 3);
      expect(limit).toBeGreaterThan(0);
      // Still serving, and the children are gone again.
      expect((await httpGet(t.lab.httpPort, "/fib/10")).body).toBe("55\n");
      expect((await tcpLines(t.lab.tcpPort, "10\n", 1)).lines[0]).toBe("55");
      // A child exits when its connection closes: the TCP one at once, one the front kept alive
      // after its idle timeout (1 s); a healthcheck may hold one more at any moment, hence + 1.
      let after = Infinity;
      for (let i = 0; i < 20 && after > before + 1; i++) {
        await sleep(250);
        after = (await serverProcesses(c)).length;
      }
      expect(after, "children reaped once their connections closed").toBeLessThanOrEqual(before + 1);
      await expectUnharmed(t);
    },
  );
});
