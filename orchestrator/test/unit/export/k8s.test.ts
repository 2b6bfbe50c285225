import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import YAML from "yaml";
import { describe, expect, it } from "vitest";
import { HARDENING } from "../../../src/docker/hardening.js";
import {
  cellObjects,
  dnsLabel,
  healthCommand,
  imageRef,
  labelValue,
  memoryQuantity,
  modelEnv,
  sharedObjects,
  type K8sExportOptions,
  type K8sObject,
} from "../../../src/export/k8s.js";
import { envFile, LOADCLIENT_COMMAND, splitEnv } from "../../../src/export/k8s-load.js";
import { toYaml } from "../../../src/export/k8s-write.js";
import { DEFAULT_TARGET, planFleet } from "../../../src/fleet/plan.js";
import { loadCatalog, repoRoot } from "../../../src/models/catalog.js";
import { resolveKnobs } from "../../../src/models/knobs.js";
import { deploymentEnv } from "../../../src/run/runner.js";
import { expandScenario, type Cell } from "../../../src/scenario/expand.js";
import { scenarioContext, validateScenario } from "../../../src/scenario/load.js";
import { absoluteLoad } from "../../../src/measure/limits.js";

const catalog = await loadCatalog();
const scenario = validateScenario(
  {
    name: "k8s-demo",
    models: ["py-threads", "py-prefork"],
    topologies: [
      { replicas: 3, cpus: 0.5, memory: "1g" },
      { replicas: 1, cpus: 1.5, workers: 3, models: ["py-prefork"] },
    ],
    workloads: [
      {
        name: "mixed",
        duration: "20s",
        warmup: "2s",
        groups: [
          {
            name: "k6open",
            protocol: "http",
            tool: "k6",
            load: { model: "open", rate: 90 },
            request: "fib 20",
            clients: { count: 3, cpus: 0.75 },
          },
          {
            name: "ac",
            protocol: "http",
            tool: "autocannon",
            load: { model: "closed", connections: 5 },
            request: "fib 15",
            clients: { count: 2, cpus: 0.5 },
          },
        ],
      },
      {
        name: "tcp",
        duration: "10s",
        groups: [
          {
            name: "tcp_Open",
            protocol: "tcp",
            tool: "tcp",
            load: { model: "open", rate: 30, arrivals: "poisson" },
            request: "fib 10",
            clients: { count: 3 },
          },
        ],
      },
    ],
    seed: 7,
    front: { balance: "least_conn", cpus: 2 },
  },
  scenarioContext(catalog),
);
const expansion = expandScenario(scenario);
const opts: K8sExportOptions = { namespace: "fiblab", resultsClaim: "fiblab-results", seed: expansion.seed };
const SCRIPT = "// fib.js\n";

function cell(model: string, topology: string, workload: string): Cell {
  const c = expansion.cells.find((x) => x.model === model && x.topology.id === topology && x.workload.name === workload);
  if (!c) throw new Error(`no cell ${model}.${topology}.${workload}`);
  return c;
}
const objectsOf = (c: Cell, o: Partial<K8sExportOptions> = {}) => cellObjects(c, scenario, catalog, { ...opts, ...o }, SCRIPT);
const find = (objs: K8sObject[], kind: string, name: string) => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind}/${name} in ${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(", ")}`);
  return o as any;
};
const envOf = (list: { name: string; value?: string }[]) =>
  Object.fromEntries(list.filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));

/** The lab's own plan of a cell's clients (what `lab run` would launch). */
function labPlan(c: Cell) {
  const specs = planFleet(
    {
      runId: "x",
      network: "n",
      outDir: "/out",
      groups: c.workload.groups.map((g) => ({ ...g, load: absoluteLoad(g.load) })),
      durationMs: c.workload.durationMs,
      warmupMs: c.workload.warmupMs,
      seed: expansion.seed + c.order,
      target: DEFAULT_TARGET,
    },
    0,
  );
  // Without --start-at each client starts with its pod: no START_AT.
  for (const s of specs) delete s.env.START_AT;
  return specs;
}

describe("k8s export of a cell", () => {
  const mixed = cell("py-threads", "3x0p5cpu-m1g", "mixed");
  const objs = objectsOf(mixed);

  it("has the model, the front and each group's load, all in the namespace", () => {
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "Deployment/py-threads",
      "Service/model",
      "ConfigMap/front",
      "Deployment/front",
      "Service/front",
      "ConfigMap/k6-script",
      "TestRun/k6open",
      "ConfigMap/client-ac",
      "Job/client-ac",
    ]);
    for (const o of objs) {
      expect(o.metadata.namespace).toBe("fiblab");
      expect(o.metadata.labels?.["fiblab.cell"]).toBe(mixed.id);
      expect(o.metadata.annotations?.["fiblab/cell-id"]).toBe(mixed.id);
    }
    expect(find(objs, "ConfigMap", "k6-script").data).toEqual({ "fib.js": SCRIPT });
  });

  it("gives the model its replicas, CPU and memory (requests = limits) and its knobs", () => {
    const d = find(objs, "Deployment", "py-threads");
    expect(d.spec.replicas).toBe(3);
    const c = d.spec.template.spec.containers[0];
    expect(c.resources).toEqual({ requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "500m", memory: "1Gi" } });
    const manifest = catalog.find((m) => m.name === "py-threads")!;
    expect(envOf(c.env)).toEqual({ FIB_MAX: "35", SLEEP_MAX_MS: "10000", ...resolveKnobs(manifest, mixed.topology) });
    expect(c.image).toBe("fiblab/py-threads:latest");
    expect(c.readinessProbe.exec.command).toEqual(["python3", "-m", "fiblab.health"]);
    expect(c.ports.map((p: { containerPort: number }) => p.containerPort)).toEqual([8000, 25000]);
    // The selector matches the pods, and the headless Service selects the same pods.
    expect(d.spec.template.metadata.labels).toMatchObject(d.spec.selector.matchLabels);
    const svc = find(objs, "Service", "model");
    expect(svc.spec.clusterIP).toBe("None");
    expect(svc.spec.selector).toEqual(d.spec.selector.matchLabels);
  });

  it("sets a topology's knobs (workers) and the compose default memory", () => {
    const g = objectsOf(cell("py-prefork", "1x1p5cpu-w3", "mixed"));
    const c = find(g, "Deployment", "py-prefork").spec.template.spec.containers[0];
    expect(envOf(c.env).WORKERS).toBe("3");
    expect(c.resources.limits).toEqual({ cpu: "1500m", memory: "512Mi" });
    expect(c.ports).toHaveLength(2);
  });

  it("configures the front as a lab run does (balance, upstream keep-alive, CPUs)", () => {
    for (const model of ["py-threads", "py-prefork"]) {
      const c = cell(model, "3x0p5cpu-m1g", "mixed");
      const env = deploymentEnv(
        catalog.find((m) => m.name === model)!,
        scenario,
        c.topology,
      );
      const o = objectsOf(c);
      expect(find(o, "ConfigMap", "front").data).toEqual({
        BALANCE: "least_conn",
        UPSTREAM_KEEPALIVE: env.UPSTREAM_KEEPALIVE,
        MODEL_HOST: "model",
      });
      const front = find(o, "Deployment", "front").spec.template.spec.containers[0];
      expect(front.envFrom).toEqual([{ configMapRef: { name: "front" } }]);
      expect(front.resources.limits).toEqual({ cpu: "2000m", memory: "256Mi" });
    }
    // py-prefork's manifest turns upstream keep-alive off.
    expect(find(objectsOf(cell("py-prefork", "3x0p5cpu-m1g", "mixed")), "ConfigMap", "front").data.UPSTREAM_KEEPALIVE).toBe("0");
  });

  it("hardens every pod: uid 10001, read-only root, no capabilities, no escalation, /tmp in memory", () => {
    const podSpecs = objs.filter((o) => o.kind === "Deployment" || o.kind === "Job").map((o: any) => o.spec.template.spec);
    const runner = find(objs, "TestRun", "k6open").spec.runner;
    const checks = [
      ...podSpecs.map((s) => ({
        pod: s.securityContext,
        c: s.containers[0].securityContext,
        vols: s.volumes,
        mounts: s.containers[0].volumeMounts,
      })),
    ];
    checks.push({ pod: runner.securityContext, c: runner.containerSecurityContext, vols: runner.volumes, mounts: runner.volumeMounts });
    expect(checks).toHaveLength(4); // model, front, the Job, the k6 runner
    for (const { pod, c, vols, mounts } of checks) {
      expect(pod).toMatchObject({ runAsUser: 10001, runAsGroup: 10001, runAsNonRoot: true });
      expect(c).toEqual({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: [...HARDENING.capDrop] } });
      expect(vols).toContainEqual({ name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } });
      expect(mounts).toContainEqual({ name: "tmp", mountPath: "/tmp" });
    }
  });

  it("runs a k6 group as one TestRun: parallelism = clients, the lab's K6Env, the group's CPU per runner", () => {
    const tr = find(objs, "TestRun", "k6open");
    const plan = labPlan(mixed).filter((c) => c.group === "k6open");
    expect(tr.apiVersion).toBe("k6.io/v1alpha1");
    expect(tr.spec.parallelism).toBe(3);
    const { CLIENT_INDEX: _, ...shared } = plan[0]!.env;
    expect(envOf(tr.spec.runner.env)).toEqual(shared);
    expect(envOf(tr.spec.initializer.env)).toEqual(shared);
    expect(shared.RATE).toBe("90"); // the group's total: the operator's execution segments split it
    expect(tr.spec.runner.resources.limits.cpu).toBe("750m");
    expect(tr.spec.script).toEqual({ configMap: { name: "k6-script", file: "fib.js" } });
    expect(tr.spec.arguments).toBe("--out fiblab-hdr=/out/k6-hdr.json --summary-export /out/summary.json --no-usage-report --no-color");
    expect(tr.spec.arguments).not.toMatch(/execution-segment|--paused/);
    const out = tr.spec.runner.volumeMounts.find((m: { mountPath: string }) => m.mountPath === "/out");
    expect(out.subPathExpr).toBe(`cells/${mixed.id}/clients/$(FIBLAB_RUNNER)`);
    // The initializer does not touch the results claim.
    expect(tr.spec.initializer.volumes.map((v: { name: string }) => v.name)).toEqual(["tmp"]);
  });

  it("runs a Node-client group as an Indexed Job whose pods get exactly the lab's environment", () => {
    const job = find(objs, "Job", "client-ac");
    expect(job.spec).toMatchObject({ completionMode: "Indexed", completions: 2, parallelism: 2, backoffLimit: 0 });
    const pod = job.spec.template.spec;
    const c = pod.containers[0];
    expect(c.resources.limits).toEqual({ cpu: "500m", memory: "512Mi" });
    expect(c.env[0]).toEqual({
      name: "CLIENT_INDEX",
      valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } },
    });
    const files = find(objs, "ConfigMap", "client-ac").data;
    const plan = labPlan(mixed).filter((x) => x.group === "ac");
    expect(Object.keys(files)).toEqual(["0.env", "1.env"]);
    plan.forEach((p, i) => {
      const own = Object.fromEntries([...files[`${i}.env`].matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1], m[2]]));
      expect({ ...envOf(c.env), ...own, CLIENT_INDEX: String(i) }).toEqual(p.env);
    });
    // 5 connections over 2 clients: 3 and 2, as the lab splits them; the seeds differ.
    expect(plan.map((p) => p.env.CONNECTIONS)).toEqual(["3", "2"]);
    expect(files["0.env"]).toContain("CONNECTIONS='3'");
    expect(c.command).toEqual(["/bin/sh", "-c", expect.stringContaining(`exec ${LOADCLIENT_COMMAND}`)]);
    const out = c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === "/out");
    expect(out.subPathExpr).toBe(`cells/${mixed.id}/clients/ac-$(CLIENT_INDEX)`);
    expect(pod.volumes).toContainEqual({ name: "results", persistentVolumeClaim: { claimName: "fiblab-results" } });
    expect(pod.restartPolicy).toBe("Never");
  });

  it("leaves START_AT out unless --start-at gives the common start", () => {
    const tcp = cell("py-threads", "3x0p5cpu-m1g", "tcp");
    const without = find(objectsOf(tcp), "Job", dnsName("tcp_Open"));
    expect(envOf(without.spec.template.spec.containers[0].env).START_AT).toBeUndefined();
    const withStart = find(objectsOf(tcp, { startAt: 1_700_000_000_000 }), "Job", dnsName("tcp_Open"));
    const env = envOf(withStart.spec.template.spec.containers[0].env);
    expect(env.START_AT).toBe("1700000000000");
    expect(env.ARRIVALS).toBe("poisson");
    expect(env.RATE).toBe("10"); // 30/s over 3 clients
  });

  it("prefixes every image with --registry", () => {
    const o = objectsOf(mixed, { registry: "prefix/lab/" });
    const images = JSON.stringify(o).match(/"image":"[^"]+"/g) ?? [];
    expect(images.length).toBeGreaterThan(0);
    for (const i of images) expect(i).toMatch(/^"image":"prefix\/lab\/fiblab\/[a-z0-9-]+:latest"$/);
    expect(imageRef("front")).toBe("fiblab/front:latest");
    // Images loaded into the nodes are never pulled; from a registry, :latest keeps Kubernetes' default (Always).
    expect(JSON.stringify(o)).not.toContain("imagePullPolicy");
    const local = JSON.stringify(objectsOf(mixed));
    expect(local.match(/"imagePullPolicy":"IfNotPresent"/g)?.length).toBe(local.match(/"image":/g)?.length);
  });
});

const dnsName = (group: string) => `client-${dnsLabel(group, 50)}`;

describe("k8s export helpers", () => {
  it("converts Docker memory sizes to binary quantities", () => {
    expect(memoryQuantity("512m")).toBe("512Mi");
    expect(memoryQuantity("1G")).toBe("1Gi");
    expect(memoryQuantity("64k")).toBe("64Ki");
    expect(memoryQuantity("1000")).toBe("1000");
    expect(() => memoryQuantity("1.5g")).toThrow(/memory/);
  });

  it("makes label values and DNS names of anything, keeping valid ones", () => {
    expect(labelValue("py-threads.1x1cpu.fib30.r1")).toBe("py-threads.1x1cpu.fib30.r1");
    const long = labelValue(`${"a".repeat(80)}.r1`);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$/);
    expect(dnsLabel("fib20")).toBe("fib20");
    expect(dnsLabel("tcp_Open")).toMatch(/^tcp-open-[0-9a-f]{8}$/);
    expect(dnsLabel("tcp_Open")).not.toBe(dnsLabel("tcp-open"));
  });

  it("splits a group's environment into what all clients share and what each has", () => {
    const { common, perClient } = splitEnv([
      { A: "1", SEED: "5" },
      { A: "1", SEED: "6" },
    ]);
    expect(common).toEqual({ A: "1" });
    expect(perClient).toEqual([{ SEED: "5" }, { SEED: "6" }]);
  });

  it("writes per-client files that a POSIX shell reads back exactly", () => {
    const env = { SEED: "12", ODD: `it's "quoted" $HOME \\ ;` };
    const dir = mkdtempSync(path.join(tmpdir(), "k8s-env-"));
    writeFileSync(path.join(dir, "0.env"), envFile(env));
    const out = execFileSync("/bin/sh", ["-c", `. "${dir}/0.env"; printf '%s\\n%s' "$SEED" "$ODD"`], { encoding: "utf8" });
    expect(out).toBe(`12\n${env.ODD}`);
  });

  it("uses each model's compose healthcheck and the loadclient image's command", () => {
    const compose = YAML.parse(readFileSync(path.join(repoRoot, "docker-compose.yml"), "utf8"), { merge: true });
    for (const m of catalog) {
      const test = compose.services[m.name]?.healthcheck?.test as string[] | undefined;
      if (test) expect(["CMD", ...healthCommand(m)], m.name).toEqual(test);
    }
    const dockerfile = readFileSync(path.join(repoRoot, "loadtests/client/Dockerfile"), "utf8");
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    expect(cmd.join(" ")).toBe(LOADCLIENT_COMMAND);
  });

  it("gives the model every knob of its manifest", () => {
    const m = catalog.find((x) => x.name === "py-prefork")!;
    expect(Object.keys(modelEnv(m, cell("py-prefork", "1x1p5cpu-w3", "mixed")))).toEqual(expect.arrayContaining(Object.keys(m.knobs)));
  });

  it("shares a namespace, a results claim and a pod to read it; YAML round-trips", () => {
    const shared = sharedObjects(opts);
    expect(shared.map((o) => o.kind)).toEqual(["Namespace", "PersistentVolumeClaim", "Pod"]);
    const text = toYaml(objectsOf(cell("py-threads", "3x0p5cpu-m1g", "mixed")), "a\nb");
    expect(text.startsWith("# a\n# b\n---\n")).toBe(true);
    expect(text).not.toMatch(/[&*]a\d/); // no YAML anchors
    const docs = YAML.parseAllDocuments(text).map((d) => d.toJS());
    expect(docs).toEqual(JSON.parse(JSON.stringify(objectsOf(cell("py-threads", "3x0p5cpu-m1g", "mixed")))));
  });
});
