import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { parseScenario, ScenarioError, validateScenario, type ScenarioProblem } from "../../../src/scenario/load.js";
import { ScenarioRecordSchema } from "../../../src/scenario/schema.js";
import { findModel, loadCatalog } from "../../../src/models/catalog.js";
import { deploymentEnv } from "../../../src/run/runner.js";
import { ctx, rejectionOf, validRaw } from "../fixtures.js";

function problemsOf(mutate: (raw: Record<string, any>) => void): ScenarioProblem[] {
  const raw = validRaw();
  mutate(raw);
  return rejectionOf(raw, ctx);
}

/** A closed-model TCP group, to stand in for one of the fixture's. */
const tcpGroup = (request: unknown) => ({ name: "t", protocol: "tcp", tool: "tcp", load: { model: "closed", connections: 2 }, request });

const G0 = "workloads[0].groups[0]";
const G1 = "workloads[0].groups[1]";

describe("parseScenario: a valid file", () => {
  it("parses, fills defaults and resolves durations, requests and topology ids", () => {
    const s = parseScenario(YAML.stringify(validRaw()), ctx);
    expect(s.name).toBe("demo");
    expect(s.repeat).toBe(3);
    expect(s.front).toEqual({ balance: "round_robin" });
    expect(s.topologies.map((t) => t.id)).toEqual(["1x1cpu-w2", "2x0p5cpu"]);
    const w = s.workloads[0]!;
    expect(w.durationMs).toBe(20_000);
    expect(w.warmupMs).toBe(5_000);
    const [main, probe] = w.groups;
    expect(main!.request).toEqual([{ text: "fib 30", kind: "fib", arg: 30, weight: 1 }]);
    expect(main!.clients).toEqual({ count: 2, cpus: 0.5 });
    expect(probe!.load).toEqual({ model: "closed", connections: 4, pipelining: 1 });
    expect(probe!.request.map((r) => [r.kind, r.arg, r.weight])).toEqual([
      ["fib", 1, 3],
      ["sleep", 50, 1],
    ]);
    expect(probe!.clients).toEqual({ count: 1, cpus: 0.5 });
  });

  it("defaults warmup to 0s and repeat to 1", () => {
    const raw = validRaw();
    delete (raw.workloads as any)[0].warmup;
    delete raw.repeat;
    const s = validateScenario(raw, ctx);
    expect(s.workloads[0]!.warmupMs).toBe(0);
    expect(s.repeat).toBe(1);
  });

  it("produces a value the archive's record schema accepts again", () => {
    const s = validateScenario(validRaw(), ctx);
    const again = ScenarioRecordSchema.parse(JSON.parse(JSON.stringify(s)));
    expect(again).toEqual(s);
  });

  it("takes further knobs as env and names the topology after them", () => {
    const knobs = {
      WORKERS: { default: 2, description: "w" },
      POOL: { default: 0, description: "p" },
      REUSEPORT: { default: 0, description: "r" },
    };
    const withKnobs = { ...ctx, modelKnobs: { ...ctx.modelKnobs, "py-threads": { knobs }, "gunicorn-sync": { knobs } } };
    const s = validateScenario(
      { ...validRaw(), topologies: [{ replicas: 1, cpus: 2, workers: 4, env: { POOL: 2, REUSEPORT: true } }] },
      withKnobs,
    );
    expect(s.topologies[0]!.env).toEqual({ POOL: 2, REUSEPORT: true });
    expect(s.topologies[0]!.id).toBe("1x2cpu-w4-pool2-reuseporttrue");
  });

  it("takes a topology's own front balance, names the topology after it, and keeps the scenario's elsewhere", () => {
    const raw = validRaw();
    raw.front = { balance: "round_robin" };
    raw.topologies = [
      { replicas: 2, cpus: 0.5, balance: "least_conn" },
      { replicas: 2, cpus: 0.5, balance: "round_robin" },
      { replicas: 2, cpus: 0.5 },
    ];
    const s = validateScenario(raw, ctx);
    expect(s.topologies.map((t) => t.id)).toEqual(["2x0p5cpu-leastconn", "2x0p5cpu-roundrobin", "2x0p5cpu"]);
    expect(s.topologies.map((t) => t.balance)).toEqual(["least_conn", "round_robin", undefined]);
    expect(ScenarioRecordSchema.parse(JSON.parse(JSON.stringify(s)))).toEqual(s);
  });

  it("passes the topology's balance to the front, else the scenario's", async () => {
    const raw = validRaw();
    raw.front = { balance: "least_conn" };
    raw.topologies = [
      { replicas: 2, cpus: 0.5, balance: "round_robin" },
      { replicas: 2, cpus: 0.5 },
    ];
    const s = validateScenario(raw, ctx);
    const manifest = findModel(await loadCatalog(), "py-threads");
    expect(s.topologies.map((t) => deploymentEnv(manifest, s, t).BALANCE)).toEqual(["round_robin", "least_conn"]);
  });

  it("applies a topology to the models it names only", () => {
    const raw = validRaw();
    raw.models = ["py-sync", "gunicorn-sync"];
    raw.topologies = [
      { replicas: 1, cpus: 1, workers: 3, models: ["gunicorn-sync"] },
      { replicas: 2, cpus: 0.5 },
    ];
    const s = validateScenario(raw, ctx);
    expect(s.topologies[0]!.models).toEqual(["gunicorn-sync"]);
  });

  it("accepts the tcp tool with pipelining and the open model", () => {
    const raw = validRaw();
    (raw.workloads as any)[0].groups = [
      { name: "t1", protocol: "tcp", tool: "tcp", load: { model: "closed", connections: 8, pipelining: 4 }, request: "fib 25" },
      { name: "t2", protocol: "tcp", tool: "tcp", load: { model: "open", rate: 100 }, request: "fib 0" },
    ];
    raw.models = ["py-threads"];
    expect(() => validateScenario(raw, ctx)).not.toThrow();
  });
});

describe("parseScenario: each bad field gives its path and the reason", () => {
  const cases: [string, (raw: Record<string, any>) => void, string, RegExp][] = [
    [
      "workers on a model without the knob",
      (r) => {
        r.models = ["py-sync"];
        r.topologies = [{ replicas: 1, cpus: 1, workers: 2 }];
      },
      "topologies[0].workers",
      /model py-sync has no WORKERS knob \(its knobs: none\)/,
    ],
    [
      "misspelt knob",
      (r) => {
        r.models = ["gunicorn-sync"];
        r.topologies = [{ replicas: 1, cpus: 1, env: { WORKER: 4 } }];
      },
      "topologies[0].env.WORKER",
      /model gunicorn-sync has no WORKER knob \(its knobs: WORKERS\)/,
    ],
    [
      "topology limited to a model the scenario does not run",
      (r) => {
        r.topologies[0].models = ["node-cluster"];
      },
      "topologies[0].models[0]",
      /"node-cluster" is not among the scenario's models/,
    ],
    [
      "unknown model",
      (r) => r.models.push("py-nope"),
      "models[2]",
      /unknown model "py-nope"; known models: gunicorn-sync, node-cluster, py-sync, py-threads/,
    ],
    [
      "model that does not serve the protocol",
      (r) => {
        r.workloads[0].groups[0] = tcpGroup("fib 20");
      },
      `${G0}.protocol`,
      /tcp is not served by model gunicorn-sync \(serves http\)/,
    ],
    ["k6 over tcp", (r) => (r.workloads[0].groups[0].protocol = "tcp"), `${G0}.tool`, /k6 only speaks http, but protocol is tcp/],
    [
      "autocannon over tcp",
      (r) => {
        r.models = ["py-threads"];
        r.workloads[0].groups[1].protocol = "tcp";
        r.workloads[0].groups[1].request = "fib 1";
      },
      `${G1}.tool`,
      /autocannon only speaks http, but protocol is tcp/,
    ],
    [
      "the tcp tool over http",
      (r) => (r.workloads[0].groups[0].tool = "tcp"),
      `${G0}.tool`,
      /the tcp tool only speaks tcp, but protocol is http/,
    ],
    [
      "autocannon with the open model",
      (r) => (r.workloads[0].groups[1].load = { model: "open", rate: 10 }),
      `${G1}.load.model`,
      /autocannon only drives the closed model/,
    ],
    [
      "open model without a rate",
      (r) => (r.workloads[0].groups[0].load = { model: "open" }),
      `${G0}.load.rate`,
      /missing: open model needs a rate/,
    ],
    [
      "open model with rate 0",
      (r) => (r.workloads[0].groups[0].load.rate = 0),
      `${G0}.load.rate`,
      /open model needs a rate: requests per second for the whole group \(> 0\)/,
    ],
    [
      "closed rate on k6",
      (r) => (r.workloads[0].groups[0].load = { model: "closed", connections: 4, rate: 10 }),
      `${G0}.load.rate`,
      /only supported by autocannon, not k6/,
    ],
    [
      "open-model connections on k6",
      (r) => (r.workloads[0].groups[0].load = { model: "open", rate: 10, connections: 2 }),
      `${G0}.load.connections`,
      /for the tcp tool only/,
    ],
    [
      "pipelining on k6",
      (r) => (r.workloads[0].groups[0].load = { model: "closed", connections: 4, pipelining: 2 }),
      `${G0}.load.pipelining`,
      /k6 cannot pipeline/,
    ],
    [
      "fewer connections than clients",
      (r) => (r.workloads[0].groups[0].load = { model: "closed", connections: 1 }),
      `${G0}.load.connections`,
      /connections \(1\) must be at least clients.count \(2\)/,
    ],
    [
      "unknown load model",
      (r) => (r.workloads[0].groups[0].load = { model: "burst", rate: 5 }),
      `${G0}.load.model`,
      /must be "open" .* or "closed"/,
    ],
    [
      "sleep over tcp",
      (r) => {
        r.models = ["py-threads"];
        r.workloads[0].groups[0] = tcpGroup("sleep 5");
      },
      `${G0}.request`,
      /sleep is only served over http, but protocol is tcp/,
    ],
    [
      "sleep over tcp in a mix",
      (r) => {
        r.models = ["py-threads"];
        r.workloads[0].groups[1] = tcpGroup([{ request: "fib 1" }, { request: "sleep 5" }]);
      },
      `${G1}.request[1].request`,
      /sleep is only served over http/,
    ],
    ["fib above the cap", (r) => (r.workloads[0].groups[0].request = "fib 36"), `${G0}.request`, /fib n must be within 0..35, got 36/],
    ["negative fib", (r) => (r.workloads[0].groups[0].request = "fib -1"), `${G0}.request`, /is not a request/],
    [
      "unknown request",
      (r) => (r.workloads[0].groups[1].request[0].request = "fob 3"),
      `${G1}.request[0].request`,
      /"fob 3" is not a request/,
    ],
    [
      "non-positive weight",
      (r) => (r.workloads[0].groups[1].request[0].weight = 0),
      `${G1}.request[0].weight`,
      /weight must be a number > 0/,
    ],
    ["empty mix", (r) => (r.workloads[0].groups[1].request = []), `${G1}.request`, /non-empty list/],
    ["zero replicas", (r) => (r.topologies[0].replicas = 0), "topologies[0].replicas", /greater than or equal to 1/],
    ["fractional replicas", (r) => (r.topologies[0].replicas = 1.5), "topologies[0].replicas", /integer/],
    ["zero cpus", (r) => (r.topologies[1].cpus = 0), "topologies[1].cpus", /greater than 0/],
    ["bad cpuset", (r) => (r.topologies[0].cpuset = "zero"), "topologies[0].cpuset", /a cpuset like "0", "0-1"/],
    ["bad memory", (r) => (r.topologies[0].memory = "lots"), "topologies[0].memory", /a memory size like "512m"/],
    ["lower-case knob", (r) => (r.topologies[0].env = { pool: 2 }), "topologies[0].env.pool", /knob names are upper case/],
    [
      "duplicate topology",
      (r) => r.topologies.push({ replicas: 1, cpus: 1, workers: 2 }),
      "topologies[2]",
      /duplicate topology id "1x1cpu-w2"/,
    ],
    ["duration without unit", (r) => (r.workloads[0].duration = "20"), "workloads[0].duration", /not a duration: "20"/],
    ["duration as a number", (r) => (r.workloads[0].duration = 20), "workloads[0].duration", /a duration with a unit/],
    ["zero duration", (r) => (r.workloads[0].duration = "0s"), "workloads[0].duration", /longer than 0/],
    ["duplicate group names", (r) => (r.workloads[0].groups[1].name = "main"), `${G1}.name`, /duplicate group name "main"/],
    ["misspelt field", (r) => (r.workloads[0].groups[0].client = { count: 1 }), `${G0}.client`, /unknown field/],
    ["missing models", (r) => delete r.models, "models", /required/],
    ["name with a dot", (r) => (r.name = "a.b"), "name", /letters, digits/],
    ["repeat 0", (r) => (r.repeat = 0), "repeat", /greater than or equal to 1/],
    ["unknown balance", (r) => (r.front = { balance: "random" }), "front.balance", /round_robin/],
    [
      "unknown topology balance",
      (r) => (r.topologies[0].balance = "leastconn"),
      "topologies[0].balance",
      /^balance must be "round_robin" or "least_conn" \(the front's policy for this topology's cells\)$/,
    ],
    ["clients count 0", (r) => (r.workloads[0].groups[0].clients.count = 0), `${G0}.clients.count`, /greater than or equal to 1/],
  ];

  it.each(cases)("%s", (_what, mutate, path, reason) => {
    const problems = problemsOf(mutate);
    const hit = problems.find((p) => p.path === path && reason.test(p.message));
    expect(hit, `problems were:\n${problems.map((p) => `${p.path}: ${p.message}`).join("\n")}`).toBeDefined();
  });

  it("lists every problem at once, each as path: reason in the message", () => {
    const raw = validRaw() as any;
    raw.models.push("py-nope");
    raw.topologies[0].replicas = 0;
    raw.workloads[0].groups[0].protocol = "tcp";
    raw.workloads[0].groups[1].load = { model: "open", rate: 5 };
    let err: unknown;
    try {
      validateScenario(raw, ctx, "sweep.yaml");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScenarioError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^sweep.yaml is invalid:/);
    expect(msg).toContain("models[2]: unknown model");
    expect(msg).toContain("topologies[0].replicas: ");
    expect(msg).toContain(`${G0}.tool: k6 only speaks http, but protocol is tcp`);
    expect(msg).toContain(`${G1}.load.model: autocannon only drives the closed model`);
  });

  it("reports a tool mismatch even when another field of the same group is broken", () => {
    const problems = problemsOf((r) => {
      r.workloads[0].groups[0].protocol = "tcp";
      r.workloads[0].groups[0].load = { model: "burst" };
    });
    expect(problems.map((p) => p.path)).toEqual(expect.arrayContaining([`${G0}.tool`, `${G0}.load.model`]));
  });

  it("rejects an empty document", () => {
    expect(() => parseScenario("", ctx)).toThrow(/\(root\): expected a mapping/);
  });
});

describe("parseScenario: YAML syntax errors", () => {
  it("gives the line and column", () => {
    const text = "name: demo\nmodels: [py-threads\ntopologies:\n  - replicas: 1\n";
    try {
      parseScenario(text, ctx, "bad.yaml");
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ScenarioError);
      const p = (e as ScenarioError).problems[0]!;
      expect(p.path).toMatch(/^line \d+, column \d+$/);
      expect(p.message).toMatch(/^YAML syntax error: /);
    }
  });

  it("points at a duplicate key's line", () => {
    try {
      parseScenario("name: a\nrepeat: 1\nname: b\n", ctx);
      expect.unreachable();
    } catch (e) {
      const p = (e as ScenarioError).problems[0]!;
      expect(p.path).toBe("line 3, column 1");
      expect(p.message).toMatch(/unique/);
    }
  });
});
