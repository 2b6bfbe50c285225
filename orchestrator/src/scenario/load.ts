import { readFile } from "node:fs/promises";
import YAML from "yaml";
import { UserError } from "../errors.js";
import type { z } from "zod";
import { acceptsKnob, knobList, requestedKnobs } from "../models/knobs.js";
import type { Manifest, ManifestEvents, Protocol } from "../models/manifest.js";
import { planEvent, type EventTopology } from "../events/plan.js";
import { EventSpecSchema } from "../events/spec.js";
import { ScenarioSchema, type Scenario } from "./schema.js";

/** One thing wrong with a scenario file. */
export interface ScenarioProblem {
  /** "workloads[0].groups[1].tool", or "(yaml)" / "(root)". */
  path: string;
  message: string;
}

export class ScenarioError extends Error {
  constructor(
    readonly problems: readonly ScenarioProblem[],
    readonly source = "scenario",
  ) {
    super(`${source} is invalid:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join("\n")}`);
    this.name = "ScenarioError";
  }
}

/** What the catalog tells validation: the models that exist, the protocols and knobs of each. */
export interface ScenarioContext {
  knownModels: readonly string[];
  modelProtocols: Readonly<Record<string, readonly Protocol[]>>;
  modelKnobs: Readonly<Record<string, Pick<Manifest, "knobs">>>;
  /** What each model's own processes support for scripted events (absent: nothing in-process). */
  modelEvents?: Readonly<Record<string, ManifestEvents>>;
}

export function scenarioContext(catalog: readonly Manifest[]): ScenarioContext {
  return {
    knownModels: catalog.map((m) => m.name),
    modelProtocols: Object.fromEntries(catalog.map((m) => [m.name, m.protocols])),
    modelKnobs: Object.fromEntries(catalog.map((m) => [m.name, { knobs: m.knobs }])),
    modelEvents: Object.fromEntries(catalog.map((m) => [m.name, m.events])),
  };
}

/** ["workloads", 0, "groups", 1, "tool"] -> "workloads[0].groups[1].tool" */
export function formatPath(path: readonly (string | number)[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out === "" ? p : `.${p}`;
  return out === "" ? "(root)" : out;
}

function zodProblems(error: z.ZodError): ScenarioProblem[] {
  return error.issues.flatMap((issue): ScenarioProblem[] => {
    // One problem per misspelt key, at the key's own path: easier to find than a list on the parent.
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((k) => ({ path: formatPath([...issue.path, k]), message: "unknown field" }));
    }
    if (issue.code === "invalid_type" && issue.received === "undefined") {
      return [{ path: formatPath(issue.path), message: `required (${issue.expected})` }];
    }
    return [{ path: formatPath(issue.path), message: issue.message }];
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Checks that need the catalog. They read the raw document defensively so that they are reported
 * together with the schema's problems, not only once those are fixed.
 */
function catalogProblems(raw: unknown, ctx: ScenarioContext): ScenarioProblem[] {
  if (!isRecord(raw) || !Array.isArray(raw.models)) return [];
  const problems: ScenarioProblem[] = [];
  const known = new Set(ctx.knownModels);
  const models: string[] = [];
  raw.models.forEach((m: unknown, i) => {
    if (typeof m !== "string") return; // the schema reports it
    if (!known.has(m)) {
      problems.push({ path: `models[${i}]`, message: `unknown model "${m}"; known models: ${[...ctx.knownModels].sort().join(", ")}` });
    } else {
      models.push(m);
    }
  });
  problems.push(...knobProblems(raw, models, ctx));
  problems.push(...eventProblems(raw, models, ctx));
  if (!Array.isArray(raw.workloads)) return problems;
  raw.workloads.forEach((w: unknown, wi) => {
    if (!isRecord(w) || !Array.isArray(w.groups)) return;
    w.groups.forEach((g: unknown, gi) => {
      if (!isRecord(g) || (g.protocol !== "tcp" && g.protocol !== "http")) return;
      const protocol = g.protocol;
      const deaf = models.filter((m) => !(ctx.modelProtocols[m] ?? []).includes(protocol));
      if (deaf.length > 0) {
        const which = deaf.map((m) => `${m} (serves ${(ctx.modelProtocols[m] ?? []).join(", ") || "nothing"})`).join(", ");
        problems.push({
          path: `workloads[${wi}].groups[${gi}].protocol`,
          message: `${protocol} is not served by ${deaf.length === 1 ? "model" : "models"} ${which}`,
        });
      }
    });
  });
  return problems;
}

/**
 * Every knob a topology sets must be one the models it applies to have: compose forwards only the
 * knobs it lists, so a misspelt or foreign knob would be dropped silently while the report still
 * labelled the cell with it.
 */
function knobProblems(raw: Record<string, unknown>, models: readonly string[], ctx: ScenarioContext): ScenarioProblem[] {
  if (!Array.isArray(raw.topologies)) return [];
  const problems: ScenarioProblem[] = [];
  raw.topologies.forEach((t: unknown, ti) => {
    if (!isRecord(t)) return;
    const only = Array.isArray(t.models) ? t.models.filter((m): m is string => typeof m === "string") : undefined;
    only?.forEach((m, i) => {
      if (!models.includes(m))
        problems.push({
          path: `topologies[${ti}].models[${i}]`,
          message: `"${m}" is not among the scenario's models (${models.join(", ")})`,
        });
    });
    const applies = only ? models.filter((m) => only.includes(m)) : models;
    const settings = {
      workers: typeof t.workers === "number" ? t.workers : undefined,
      threads: typeof t.threads === "number" ? t.threads : undefined,
      env: isRecord(t.env) ? (t.env as Record<string, string | number | boolean>) : undefined,
    };
    for (const r of requestedKnobs(settings)) {
      const lacking = applies.filter((m) => {
        const manifest = ctx.modelKnobs[m];
        return manifest !== undefined && !acceptsKnob(manifest, r.knob);
      });
      for (const m of lacking) {
        const manifest = ctx.modelKnobs[m] as Pick<Manifest, "knobs">;
        problems.push({
          path: `topologies[${ti}].${r.field}`,
          message: `model ${m} has no ${r.knob} knob (its knobs: ${knobList(manifest)}); set it in a topology limited to the models that have it (topologies[].models)`,
        });
      }
    }
  });
  return problems;
}

/** The topologies as written, with the models each applies to (the schema reports what is malformed). */
function rawTopologies(
  raw: Record<string, unknown>,
  models: readonly string[],
): { index: number; topology: EventTopology; models: string[] }[] {
  if (!Array.isArray(raw.topologies)) return [];
  return raw.topologies.flatMap((t: unknown, index) => {
    if (!isRecord(t) || typeof t.replicas !== "number") return [];
    const only = Array.isArray(t.models) ? t.models.filter((m): m is string => typeof m === "string") : undefined;
    const topology: EventTopology = {
      replicas: t.replicas,
      ...(typeof t.workers === "number" ? { workers: t.workers } : {}),
      ...(typeof t.threads === "number" ? { threads: t.threads } : {}),
      ...(isRecord(t.env) ? { env: t.env as Record<string, string | number | boolean> } : {}),
    };
    return [{ index, topology, models: only ? models.filter((m) => only.includes(m)) : [...models] }];
  });
}

/**
 * Every scripted event must be possible for every model in every topology it meets: a model
 * without a master cannot rolling-restart or scale its workers, a model whose manifest names no
 * worker processes cannot kill-worker, and so on (events/plan.ts decides). Rejected naming the
 * model, the event and the topology.
 */
function eventProblems(raw: Record<string, unknown>, models: readonly string[], ctx: ScenarioContext): ScenarioProblem[] {
  if (!Array.isArray(raw.workloads)) return [];
  const topologies = rawTopologies(raw, models);
  const problems = new Map<string, ScenarioProblem>();
  raw.workloads.forEach((w: unknown, wi) => {
    if (!isRecord(w) || !Array.isArray(w.events)) return;
    w.events.forEach((e: unknown, ei) => {
      const parsed = EventSpecSchema.safeParse(e);
      if (!parsed.success) return; // the schema reports it
      for (const t of topologies) {
        for (const name of t.models) {
          const model = {
            name,
            knobs: ctx.modelKnobs[name]?.knobs ?? {},
            events: ctx.modelEvents?.[name] ?? {},
            protocols: ctx.modelProtocols[name] ?? [],
          };
          const r = planEvent(parsed.data, model, t.topology);
          if (r.ok) continue;
          const path = `workloads[${wi}].events[${ei}].${r.field}`;
          const message = `${r.reason} (topologies[${t.index}]: ${t.topology.replicas} replica${t.topology.replicas === 1 ? "" : "s"})`;
          problems.set(`${path} ${message}`, { path, message });
        }
      }
    });
  });
  return [...problems.values()];
}

/** Validate an already-parsed document (e.g. from JSON). */
export function validateScenario(raw: unknown, ctx: ScenarioContext, source = "scenario"): Scenario {
  if (!isRecord(raw)) {
    throw new ScenarioError([{ path: "(root)", message: "expected a mapping with name, models, topologies and workloads" }], source);
  }
  const parsed = ScenarioSchema.safeParse(raw);
  const problems = [...(parsed.success ? [] : zodProblems(parsed.error)), ...catalogProblems(raw, ctx)];
  if (problems.length > 0 || !parsed.success) throw new ScenarioError(problems, source);
  return parsed.data;
}

/** Parse scenario YAML text; throws ScenarioError listing every problem found. */
export function parseScenario(text: string, ctx: ScenarioContext, source = "scenario"): Scenario {
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ScenarioError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        const where = pos ? `line ${pos.line}, column ${pos.col}` : "yaml";
        // The yaml package's message may carry its own position suffix and a source excerpt; keep the first line.
        return {
          path: where,
          message: `YAML syntax error: ${(e.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "")}`,
        };
      }),
      source,
    );
  }
  return validateScenario(doc.toJS(), ctx, source);
}

export async function loadScenarioFile(file: string, ctx: ScenarioContext): Promise<{ scenario: Scenario; text: string }> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === "ENOENT" ? "no such file" : err.code === "EISDIR" ? "it is a folder" : err.message;
    throw new UserError(`cannot read scenario ${file}: ${why}`);
  }
  return { scenario: parseScenario(text, ctx, file), text };
}
