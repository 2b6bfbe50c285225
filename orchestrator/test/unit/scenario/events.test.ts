import { describe, expect, it } from "vitest";
import { ScenarioError, validateScenario, type ScenarioContext, type ScenarioProblem } from "../../../src/scenario/load.js";
import { ScenarioRecordSchema, topologyId } from "../../../src/scenario/schema.js";
import { parseTop, pickWorker, planEvent, workerProcesses } from "../../../src/events/plan.js";
import { EventSpecSchema } from "../../../src/events/spec.js";
import { ctx as baseCtx, rejectionOf, validRaw } from "../fixtures.js";

// The fixture's made-up catalog, with events as the real manifests declare them.
const ctx: ScenarioContext = {
  ...baseCtx,
  knownModels: [...baseCtx.knownModels, "py-prefork", "uvicorn"],
  modelProtocols: { ...baseCtx.modelProtocols, "py-prefork": ["tcp", "http"], uvicorn: ["http"] },
  modelKnobs: {
    ...baseCtx.modelKnobs,
    "py-prefork": { knobs: { WORKERS: { default: 2, description: "w" } } },
    uvicorn: { knobs: { WORKERS: { default: 2, description: "w" } } },
  },
  modelEvents: {
    "py-threads": { workerProcesses: "main" },
    "py-sync": { workerProcesses: "main" },
    "gunicorn-sync": {
      workerProcesses: "children",
      rollingRestart: { signal: "HUP", how: "arbiter" },
      scaleWorkers: { up: "TTIN", down: "TTOU" },
      hangTimeout: { knob: "TIMEOUT" },
    },
    "node-cluster": {
      workerProcesses: "children",
      rollingRestart: { signal: "HUP", how: "primary" },
      scaleWorkers: { up: "TTIN", down: "TTOU" },
    },
    "py-prefork": {
      workerProcesses: "children",
      rollingRestart: { signal: "HUP", how: "master" },
      scaleWorkers: { up: "TTIN", down: "TTOU" },
    },
    uvicorn: {
      workerProcesses: "children",
      rollingRestart: { signal: "HUP", how: "supervisor" },
      scaleWorkers: { up: "TTIN", down: "TTOU" },
      masterWhen: { knob: "WORKERS", atLeast: 2 },
    },
  },
};

function withEvents(events: unknown[], mutate: (raw: Record<string, any>) => void = () => undefined): Record<string, any> {
  const raw = validRaw() as Record<string, any>;
  raw.workloads[0].events = events;
  mutate(raw);
  return raw;
}

const problemsOf = (raw: Record<string, unknown>): ScenarioProblem[] => rejectionOf(raw, ctx);

describe("scenario events", () => {
  it("accepts events inside the window, fills defaults and keeps them in the record", () => {
    const raw = withEvents([
      { at: "2s", action: "kill-container" },
      { at: "5s", action: "noise", cpus: 0.5, duration: "3s" },
      { at: "19s", action: "hang", request: "fib 35" },
    ]);
    const s = validateScenario(raw, ctx);
    expect(s.workloads[0]!.events).toEqual([
      { at: "2s", action: "kill-container", replica: 0 },
      { at: "5s", action: "noise", cpus: 0.5, duration: "3s" },
      { at: "19s", action: "hang", request: "fib 35", protocol: "http", via: "front" },
    ]);
    expect(ScenarioRecordSchema.parse(JSON.parse(JSON.stringify(s)))).toEqual(s);
  });

  it("rejects an event at or past the end of the window, naming its path", () => {
    const problems = problemsOf(
      withEvents([
        { at: "1s", action: "kill-container" },
        { at: "20s", action: "kill-container" },
      ]),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toBe("workloads[0].events[1].at");
    expect(problems[0]!.message).toMatch(/outside the measured window/);
  });

  it("rejects an unknown action, a misspelt field and a bad duration, each at its path", () => {
    const problems = problemsOf(
      withEvents([
        { at: "1s", action: "explode" },
        { at: "1s", action: "kill-worker", sigal: "TERM" },
        { at: "soon", action: "kill-container" },
        { at: "1s", action: "scale", by: 0 },
      ]),
    );
    const paths = problems.map((p) => p.path);
    expect(paths).toContain("workloads[0].events[0].action");
    expect(paths).toContain("workloads[0].events[1].sigal");
    expect(paths).toContain("workloads[0].events[2].at");
    expect(paths).toContain("workloads[0].events[3].by");
  });

  it("rejects an event a model cannot do, naming the path, the model and the event", () => {
    // py-threads has no master: it can neither rolling-restart nor grow its workers.
    const problems = problemsOf(
      withEvents(
        [
          { at: "3s", action: "rolling-restart", what: "workers" },
          { at: "4s", action: "scale", by: 1, what: "workers" },
        ],
        (raw) => {
          raw.topologies = [{ replicas: 1, cpus: 1, workers: 2 }];
        },
      ),
    );
    expect(problems.map((p) => p.path)).toEqual(["workloads[0].events[0].what", "workloads[0].events[1].what"]);
    expect(problems[0]!.message).toMatch(/model py-threads cannot rolling-restart/);
    expect(problems[1]!.message).toMatch(/model py-threads cannot scale its workers/);
    // gunicorn-sync can: it is not named
    expect(problems.some((p) => /gunicorn-sync/.test(p.message))).toBe(false);
  });

  it("rejects kill-worker for a model whose manifest names no worker processes", () => {
    const raw = withEvents([{ at: "1s", action: "kill-worker" }], (r) => {
      r.models = ["py-threads", "gunicorn-sync", "py-fork"];
    });
    const c: ScenarioContext = {
      ...ctx,
      knownModels: [...ctx.knownModels, "py-fork"],
      modelProtocols: { ...ctx.modelProtocols, "py-fork": ["tcp", "http"] },
      modelKnobs: { ...ctx.modelKnobs, "py-fork": { knobs: {} } },
      modelEvents: { ...ctx.modelEvents, "py-fork": {} },
    };
    raw.topologies = [{ replicas: 1, cpus: 1 }];
    try {
      validateScenario(raw, c);
      throw new Error("expected a rejection");
    } catch (e) {
      const problems = (e as ScenarioError).problems;
      expect(problems).toHaveLength(1);
      expect(problems[0]!.path).toBe("workloads[0].events[0].action");
      expect(problems[0]!.message).toMatch(/model py-fork cannot kill-worker/);
    }
  });

  it("defaults to replicas where the model cannot, and to workers in one container of a model with a master", () => {
    const scaleEv = EventSpecSchema.parse({ at: "1s", action: "scale", by: 1 });
    const m = (name: string) => ({ name, knobs: ctx.modelKnobs[name]!.knobs, events: ctx.modelEvents![name]! });
    expect(planEvent(scaleEv, m("py-prefork"), { replicas: 1 })).toMatchObject({
      ok: true,
      plan: { what: "workers", signal: "TTIN", count: 1 },
    });
    expect(planEvent(scaleEv, m("py-prefork"), { replicas: 2 })).toMatchObject({ ok: true, plan: { what: "replicas", from: 2, to: 3 } });
    expect(planEvent(scaleEv, m("py-threads"), { replicas: 1 })).toMatchObject({ ok: true, plan: { what: "replicas" } });
    // uvicorn has its supervisor only with WORKERS >= 2
    expect(planEvent(scaleEv, m("uvicorn"), { replicas: 1, workers: 1 })).toMatchObject({ ok: true, plan: { what: "replicas" } });
    const rr = EventSpecSchema.parse({ at: "1s", action: "rolling-restart", what: "workers" });
    const refused = planEvent(rr, m("uvicorn"), { replicas: 1, workers: 1 });
    expect(refused).toMatchObject({ ok: false, field: "what" });
    expect(!refused.ok && refused.reason).toMatch(/WORKERS >= 2/);
    const kill = EventSpecSchema.parse({ at: "1s", action: "kill-worker" });
    expect(planEvent(kill, m("uvicorn"), { replicas: 1, workers: 1 })).toMatchObject({ ok: true, plan: { process: "main" } });
    expect(planEvent(kill, m("uvicorn"), { replicas: 1 })).toMatchObject({ ok: true, plan: { process: "children", signal: "KILL" } });
  });

  it("checks replicas, scale-down limits and hang requests against the topology", () => {
    const problems = problemsOf(
      withEvents([
        { at: "1s", action: "kill-container", replica: 2 },
        { at: "1s", action: "scale", by: -2, what: "replicas" },
        { at: "1s", action: "hang", request: "sleep 30000" },
        { at: "1s", action: "hang", request: "sleep 100", protocol: "tcp" },
      ]),
    );
    const paths = problems.map((p) => p.path);
    expect(paths).toContain("workloads[0].events[0].replica");
    expect(paths).toContain("workloads[0].events[1].by");
    expect(paths).toContain("workloads[0].events[2].request");
    expect(paths).toContain("workloads[0].events[3].request");
    expect(problems.find((p) => p.path === "workloads[0].events[2].request")!.message).toMatch(/SLEEP_MAX_MS=10000/);
    // a topology that raises the cap accepts the long sleep
    const ok = withEvents([{ at: "1s", action: "hang", request: "sleep 30000" }], (raw) => {
      raw.topologies = [{ replicas: 1, cpus: 1, env: { SLEEP_MAX_MS: 60000 } }];
    });
    expect(() => validateScenario(ok, ctx)).not.toThrow();
  });

  it("names a topology after its restart policy only when one is set", () => {
    expect(topologyId({ replicas: 2, cpus: 0.5 })).toBe("2x0p5cpu");
    expect(topologyId({ replicas: 2, cpus: 0.5, restart: "on-failure" })).toBe("2x0p5cpu-restartonfailure");
    expect(topologyId({ replicas: 2, cpus: 0.5, restart: "no" })).toBe("2x0p5cpu-restartno");
    const problems = problemsOf(withEvents([], (raw) => (raw.topologies[0].restart = "sometimes")));
    expect(problems.map((p) => p.path)).toEqual(["topologies[0].restart"]);
  });
});

describe("event planning: processes", () => {
  const top = {
    Titles: ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
    Processes: [
      ["10001", "100", "90", "0", "04:03", "?", "00:00:00", "python3 /app/server.py"],
      [
        "10001",
        "105",
        "100",
        "0",
        "04:03",
        "?",
        "00:00:00",
        "/usr/bin/python3 -c from multiprocessing.resource_tracker import main;main(6)",
      ],
      ["10001", "107", "100", "0", "04:03", "?", "00:00:00", "/usr/bin/python3 -c from multiprocessing.spawn import spawn_main"],
      ["10001", "106", "100", "0", "04:03", "?", "00:00:00", "/usr/bin/python3 -c from multiprocessing.spawn import spawn_main"],
    ],
  };
  it("finds the workers among the main process's children, leaving helpers out", () => {
    const procs = parseTop(top);
    expect(procs.map((p) => p.pid)).toEqual([100, 105, 107, 106]);
    expect(workerProcesses(procs, 100, "children").map((p) => p.pid)).toEqual([105, 107, 106]);
    const helpers = "multiprocessing\\.resource_tracker";
    expect(workerProcesses(procs, 100, "children", helpers).map((p) => p.pid)).toEqual([107, 106]);
    expect(pickWorker(procs, 100, "children", helpers)?.pid).toBe(106);
    expect(pickWorker(procs, 100, "main")?.pid).toBe(100);
  });
});
