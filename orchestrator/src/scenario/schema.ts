import { z } from "zod";
import { CONTRACT_KNOBS } from "../models/knobs.js";
import type { Protocol } from "../models/manifest.js";
import { ARRIVALS } from "../../../loadtests/contract/env.js";
import { tryParseDuration } from "./duration.js";
import { eventAtMs, EventSpecSchema } from "../events/spec.js";

/**
 * The scenario file (YAML), validated as a whole before anything starts. Model names are checked
 * against the catalog in load.ts, because the catalog is only known at run time.
 *
 * Objects are strict: a misspelt key is an error, not a silently ignored setting.
 */

/** The models' default cap on n (FIB_MAX in the contract). */
export const FIB_MAX = CONTRACT_KNOBS.FIB_MAX;
/** The models' default cap on /sleep (SLEEP_MAX_MS in the contract). */
export const SLEEP_MAX_MS = CONTRACT_KNOBS.SLEEP_MAX_MS;

// Names become parts of cell ids ("model.topology.workload.rN") and folder names: no dots, no slashes.
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const NAME_HELP = "use letters, digits, '-' and '_' only (it becomes part of cell ids and folder names)";
export const NameSchema = z.string().regex(NAME_RE, NAME_HELP);

const DurationTextSchema = z.string({ invalid_type_error: 'a duration with a unit, like "20s", "1m" or "500ms"' }).refine(
  (s) => tryParseDuration(s) !== undefined,
  (s) => ({
    message: `not a duration: ${JSON.stringify(s)} (write e.g. "500ms", "20s", "1m", "1m30s")`,
  }),
);

// The manifest owns the protocol names; this enum must stay equal to it (checked at the end of the file).
export const ProtocolSchema = z.enum(["tcp", "http"]);
export type { Protocol };
export const ToolSchema = z.enum(["k6", "autocannon", "tcp"]);
export type Tool = z.infer<typeof ToolSchema>;
export const LoadModelSchema = z.enum(["open", "closed"]);
export type LoadModel = z.infer<typeof LoadModelSchema>;

// ---------------------------------------------------------------- topology

/** Docker restart policies a topology may give its replicas (compose `restart:`). */
export const RESTART_POLICIES = ["no", "on-failure", "always"] as const;
export type RestartPolicy = (typeof RESTART_POLICIES)[number];
/** The compose file's default (`${RESTART:-on-failure}`). */
export const DEFAULT_RESTART: RestartPolicy = "on-failure";

/** How the front spreads requests over the replicas (nginx: round-robin, or `least_conn`). */
const BALANCES = ["round_robin", "least_conn"] as const;
const TopologyBalanceSchema = z.enum(BALANCES, {
  errorMap: () => ({ message: `balance must be "round_robin" or "least_conn" (the front's policy for this topology's cells)` }),
});

const TopologyBase = z
  .object({
    name: NameSchema.optional(),
    /** The models this topology applies to (default: every model of the scenario). */
    models: z.array(z.string()).nonempty().optional(),
    replicas: z.number().int().min(1),
    /** CPU limit per replica. */
    cpus: z.number().positive(),
    workers: z.number().int().min(1).optional(),
    threads: z.number().int().min(1).optional(),
    cpuset: z
      .string()
      .regex(/^\d+(-\d+)?(,\d+(-\d+)?)*$/, 'a cpuset like "0", "0-1" or "0,2"')
      .optional(),
    memory: z
      .string()
      .regex(/^\d+[bkmg]?$/i, 'a memory size like "512m" or "1g"')
      .optional(),
    /**
     * The replicas' restart policy (compose `restart:`): what Docker does when a replica's main
     * process dies. Unset: on-failure, as in the compose file.
     */
    restart: z.enum(RESTART_POLICIES).optional(),
    /** The front's balancing for this topology's cells, over the scenario's `front.balance`. */
    balance: TopologyBalanceSchema.optional(),
    /** Further model knobs (POOL, REUSEPORT, MAX_CHILDREN, ...), passed as environment variables. */
    env: z
      .record(
        z.string().regex(/^[A-Z][A-Z0-9_]*$/, "knob names are upper case, like POOL or REUSEPORT"),
        z.union([z.string(), z.number(), z.boolean()]),
      )
      .optional(),
  })
  .strict();

/**
 * "1x1cpu-w2": replicas x cpus, then the knobs. A dot in cpus would split a cell id, so 0.5 is
 * written "0p5".
 */
export function topologyId(t: z.infer<typeof TopologyBase>): string {
  if (t.name) return t.name;
  let id = `${t.replicas}x${String(t.cpus).replace(".", "p")}cpu`;
  if (t.workers !== undefined) id += `-w${t.workers}`;
  if (t.threads !== undefined) id += `-t${t.threads}`;
  if (t.cpuset !== undefined) id += `-cs${t.cpuset.replace(/,/g, "_")}`;
  if (t.memory !== undefined) id += `-m${t.memory.toLowerCase()}`;
  if (t.restart !== undefined) id += `-restart${t.restart.replace(/-/g, "")}`;
  if (t.balance !== undefined) id += `-${t.balance.replace(/_/g, "")}`;
  for (const [k, v] of Object.entries(t.env ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    id += `-${k.toLowerCase().replace(/_/g, "")}${String(v)
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "")}`;
  }
  return id;
}

export const TopologySchema = TopologyBase.transform((t) => ({ ...t, id: topologyId(t) }));
/** A topology as stored in the archive (already resolved, with its id). */
export const TopologyRecordSchema = TopologyBase.extend({ id: z.string() });
export type Topology = z.output<typeof TopologyRecordSchema>;

// ---------------------------------------------------------------- requests

export const RequestEntrySchema = z.object({
  /** As written: "fib 30", "sleep 50". */
  text: z.string(),
  kind: z.enum(["fib", "sleep"]),
  /** n for fib, milliseconds for sleep. */
  arg: z.number().int().nonnegative(),
  /** Relative weight in the mix. */
  weight: z.number().positive(),
});
export type RequestEntry = z.infer<typeof RequestEntrySchema>;
export const RequestMixSchema = z.array(RequestEntrySchema).nonempty();
export type RequestMix = z.infer<typeof RequestMixSchema>;

const REQUEST_RE = /^\s*(fib|sleep)\s+(\d+)\s*$/;
const REQUEST_HELP = 'write "fib <n>" or "sleep <ms>", e.g. "fib 30"';

function parseRequestText(text: unknown, ctx: z.RefinementCtx, path: (string | number)[]): Omit<RequestEntry, "weight"> | undefined {
  if (typeof text !== "string") {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path, message: `expected a request text; ${REQUEST_HELP}` });
    return undefined;
  }
  const m = REQUEST_RE.exec(text);
  if (!m) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path, message: `${JSON.stringify(text)} is not a request; ${REQUEST_HELP}` });
    return undefined;
  }
  const kind = m[1] as "fib" | "sleep";
  const arg = Number(m[2]);
  if (kind === "fib" && arg > FIB_MAX) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path, message: `fib n must be within 0..${FIB_MAX}, got ${arg}` });
  }
  if (kind === "sleep" && arg > SLEEP_MAX_MS) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path, message: `sleep ms must be within 0..${SLEEP_MAX_MS}, got ${arg}` });
  }
  return { text: text.trim().replace(/\s+/g, " "), kind, arg };
}

const WEIGHTED_KEYS = new Set(["request", "weight"]);

/**
 * "fib 25", or a weighted list [{request: "fib 30", weight: 1}, ...]; always a list afterwards.
 * Written as one transform rather than a zod union so that each mistake is reported at its own
 * path instead of as one "invalid input" for the whole union.
 */
export const RequestSpecSchema = z.unknown().transform((value, ctx): RequestMix => {
  if (typeof value === "string") {
    const r = parseRequestText(value, ctx, []);
    return r ? [{ ...r, weight: 1 }] : (z.NEVER as never);
  }
  if (!Array.isArray(value) || value.length === 0) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: `expected "fib <n>", "sleep <ms>" or a non-empty list of {request, weight}`,
    });
    return z.NEVER;
  }
  const out: RequestEntry[] = [];
  value.forEach((item: unknown, i) => {
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i], message: "expected {request, weight}" });
      return;
    }
    const rec = item as Record<string, unknown>;
    for (const k of Object.keys(rec)) {
      if (!WEIGHTED_KEYS.has(k)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i, k], message: "unknown field" });
    }
    const r = parseRequestText(rec.request, ctx, [i, "request"]);
    const weight = rec.weight === undefined ? 1 : rec.weight;
    if (typeof weight !== "number" || !(weight > 0) || !Number.isFinite(weight)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i, "weight"], message: "weight must be a number > 0" });
      return;
    }
    if (r) out.push({ ...r, weight });
  });
  return out.length === value.length ? (out as RequestMix) : z.NEVER;
});

// ---------------------------------------------------------------- load

/** A rate written as a share of the capacity the run's saturation probe measured: "80%". */
export interface RelativeRate {
  percent: number;
}
const RATE_HELP = 'open model needs a rate: requests per second for the whole group (> 0), or a share of the probed capacity like "80%"';
const PERCENT_RE = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/;
/** The most a relative rate may ask for: past saturation is allowed (overload is a question too), but not absurdly. */
export const MAX_RATE_PERCENT = 300;

/**
 * A number (requests per second) or "NN%" of the capacity probed for the same model, topology and
 * group in the same run (run/probe.ts). The parsed form of "80%" is {percent: 80}; accepting that
 * form too keeps the schema idempotent for archived records.
 */
export const RateSchema = z.unknown().transform((v, ctx): number | RelativeRate => {
  if (typeof v === "number" && Number.isFinite(v) && v > 0) return v;
  const text = typeof v === "string" ? v : undefined;
  const percent = text !== undefined ? Number(PERCENT_RE.exec(text)?.[1]) : (v as Partial<RelativeRate> | null)?.percent;
  if (typeof percent === "number" && percent > 0 && percent <= MAX_RATE_PERCENT) return { percent };
  const message =
    typeof percent === "number" && percent > MAX_RATE_PERCENT
      ? `a relative rate must be within 0%..${MAX_RATE_PERCENT}% of the probed capacity, got ${String(v)}`
      : `${v === undefined ? "missing" : JSON.stringify(v)}: ${RATE_HELP}`;
  ctx.addIssue({ code: z.ZodIssueCode.custom, message });
  return z.NEVER;
});

export const OpenLoadSchema = z
  .object({
    model: z.literal("open"),
    /** Arrivals per second for the whole group (split over its clients). */
    rate: z
      .number({ required_error: "open model needs rate > 0 (requests per second for the whole group)" })
      .positive("open model needs rate > 0 (requests per second for the whole group)"),
    /**
     * k6 only: the VU pool of constant-arrival-rate for the whole group. An arrival that finds no
     * free VU is dropped, not sent late, so the pool must cover rate x the worst latency expected.
     */
    vus: z
      .object({ preAllocated: z.number().int().min(1), max: z.number().int().min(1).optional() })
      .strict()
      .optional(),
    /**
     * tcp tool only: connections per client the arrivals are spread over (default 8); replies come
     * in order, so requests pipeline on a connection when the server is slow.
     */
    connections: z.number().int().min(1).optional(),
    /**
     * tcp tool only: how arrivals are spaced, evenly (uniform, the default) or as a seeded Poisson
     * process, so a measurement can be set beside queueing theory (M/D/c).
     */
    arrivals: z.enum(ARRIVALS).optional(),
  })
  .strict();

export const ClosedLoadSchema = z
  .object({
    model: z.literal("closed"),
    /** Connections (k6: VUs) for the whole group, split over its clients. */
    connections: z.number().int().min(1),
    /** Requests in flight per connection. */
    pipelining: z.number().int().min(1).default(1),
    /** autocannon only: a cap on the total request rate. */
    rate: z.number().positive().optional(),
  })
  .strict();

const loadErrors: z.ZodErrorMap = (issue, ctx) =>
  issue.code === z.ZodIssueCode.invalid_union_discriminator
    ? { message: `must be "open" (a fixed arrival rate) or "closed" (a fixed number of connections)` }
    : { message: ctx.defaultError };

/** A load as the clients run it and the archive records it: an open rate in requests per second. */
export const LoadSchema = z.discriminatedUnion("model", [OpenLoadSchema, ClosedLoadSchema], { errorMap: loadErrors });
export type Load = z.output<typeof LoadSchema>;

/** A load as a scenario writes it: an open rate may be a share of the probed capacity ("80%"). */
export const ScenarioLoadSchema = z.discriminatedUnion("model", [OpenLoadSchema.extend({ rate: RateSchema }), ClosedLoadSchema], {
  errorMap: loadErrors,
});
export type ScenarioLoad = z.output<typeof ScenarioLoadSchema>;
/** An open load whose rate is a share of the probed capacity ("80%"), not yet requests per second. */
export type RelativeLoad = Extract<ScenarioLoad, { model: "open" }> & { rate: RelativeRate };

export function isRelativeLoad(load: ScenarioLoad): load is RelativeLoad {
  return load.model === "open" && typeof load.rate !== "number";
}

// ---------------------------------------------------------------- groups and workloads

const ClientsSchema = z
  .object({
    count: z.number().int().min(1).default(1),
    /** CPU limit of each client container. */
    cpus: z.number().positive().default(0.5),
  })
  .strict();

const GroupBase = z
  .object({
    name: NameSchema,
    protocol: ProtocolSchema,
    tool: ToolSchema,
    load: ScenarioLoadSchema,
    request: RequestSpecSchema,
    clients: ClientsSchema.default({}),
  })
  .strict();

/**
 * The fields the cross-field checks need, each read on its own from the raw group, so that a
 * mistake in one field (say an unknown load model) does not hide a mismatch between two others.
 */
interface GroupView {
  protocol?: Protocol;
  tool?: Tool;
  loadModel?: LoadModel;
  rate?: unknown;
  arrivals?: unknown;
  connections?: number;
  pipelining?: number;
  clientCount: number;
  /** Kind of each request in the mix, where readable. */
  kinds: ("fib" | "sleep" | undefined)[];
  singleRequest: boolean;
}

function viewGroup(raw: Record<string, unknown>): GroupView {
  const load = typeof raw.load === "object" && raw.load !== null ? (raw.load as Record<string, unknown>) : {};
  const clients = typeof raw.clients === "object" && raw.clients !== null ? (raw.clients as Record<string, unknown>) : {};
  const kindOf = (t: unknown) => (typeof t === "string" ? (REQUEST_RE.exec(t)?.[1] as "fib" | "sleep" | undefined) : undefined);
  const list = Array.isArray(raw.request) ? (raw.request as unknown[]) : undefined;
  return {
    protocol: ProtocolSchema.safeParse(raw.protocol).data,
    tool: ToolSchema.safeParse(raw.tool).data,
    loadModel: LoadModelSchema.safeParse(load.model).data,
    rate: load.rate,
    arrivals: load.arrivals,
    connections: typeof load.connections === "number" ? load.connections : undefined,
    pipelining: typeof load.pipelining === "number" ? load.pipelining : 1,
    clientCount: typeof clients.count === "number" ? clients.count : 1,
    kinds: list
      ? list.map((e) => kindOf(typeof e === "object" && e !== null ? (e as Record<string, unknown>).request : undefined))
      : [kindOf(raw.request)],
    singleRequest: list === undefined,
  };
}

const TOOL_PROTOCOL: Record<Tool, Protocol> = { k6: "http", autocannon: "http", tcp: "tcp" };

/** Combinations of tool, protocol, load model and request that no client can run. */
function checkGroup(g: GroupView, ctx: z.RefinementCtx): void {
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: z.ZodIssueCode.custom, path, message });
  if (g.tool && g.protocol && TOOL_PROTOCOL[g.tool] !== g.protocol) {
    issue(["tool"], `${g.tool === "tcp" ? "the tcp tool" : g.tool} only speaks ${TOOL_PROTOCOL[g.tool]}, but protocol is ${g.protocol}`);
  }
  if (g.tool === "autocannon" && g.loadModel === "open") {
    issue(["load", "model"], "autocannon only drives the closed model (connections); use k6 or the tcp tool for an open model");
  }
  if (g.loadModel === "open" && g.arrivals !== undefined && g.tool !== undefined && g.tool !== "tcp") {
    issue(["load", "arrivals"], `arrivals is for the tcp tool only; ${g.tool}'s open model spaces arrivals evenly`);
  }
  if (g.loadModel === "open" && g.connections !== undefined && g.tool !== undefined && g.tool !== "tcp") {
    issue(["load", "connections"], `connections on the open model is for the tcp tool only; ${g.tool} opens what the arrival rate needs`);
  }
  if (g.loadModel === "closed") {
    if (g.rate !== undefined && g.tool !== undefined && g.tool !== "autocannon") {
      issue(
        ["load", "rate"],
        `a rate on the closed model is only supported by autocannon, not ${g.tool}; use model: open for a fixed arrival rate`,
      );
    }
    if (g.pipelining !== undefined && g.pipelining > 1 && g.tool === "k6") {
      issue(["load", "pipelining"], "k6 cannot pipeline HTTP requests; leave pipelining at 1");
    }
    if (g.connections !== undefined && g.connections < g.clientCount) {
      issue(
        ["load", "connections"],
        `connections (${g.connections}) must be at least clients.count (${g.clientCount}): each client needs one`,
      );
    }
  }
  if (g.protocol && g.protocol !== "http") {
    g.kinds.forEach((k, i) => {
      if (k === "sleep")
        issue(g.singleRequest ? ["request"] : ["request", i, "request"], `sleep is only served over http, but protocol is ${g.protocol}`);
    });
  }
}

/**
 * Parsed as a whole and cross-checked field by field, both reported: a zod refinement on the
 * object would not run once any field failed.
 */
export const GroupSchema = z.unknown().transform((raw, ctx): z.output<typeof GroupBase> => {
  const parsed = GroupBase.safeParse(raw);
  if (!parsed.success) for (const i of parsed.error.issues) ctx.addIssue(i);
  if (typeof raw === "object" && raw !== null && !Array.isArray(raw)) checkGroup(viewGroup(raw as Record<string, unknown>), ctx);
  return parsed.success ? parsed.data : z.NEVER;
});
export const GroupRecordSchema = GroupBase.extend({ request: RequestMixSchema, clients: ClientsSchema });
export type Group = z.output<typeof GroupRecordSchema>;

function checkUnique<T>(items: readonly T[], nameOf: (t: T) => string, field: string, ctx: z.RefinementCtx, what: string): void {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const n = nameOf(item);
    const first = seen.get(n);
    if (first !== undefined) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: [i, ...(field ? [field] : [])],
        message: `duplicate ${what} "${n}" (also at index ${first})`,
      });
    } else {
      seen.set(n, i);
    }
  });
}

const WorkloadBase = z
  .object({
    name: NameSchema,
    /** The measured window. */
    duration: DurationTextSchema,
    /** Load applied before the measured window and not counted. */
    warmup: DurationTextSchema.default("0s"),
    groups: z.array(GroupSchema).nonempty(),
    /** Scripted events (events/spec.ts), each at an offset inside the measured window. */
    events: z.array(EventSpecSchema).default([]),
  })
  .strict();

export const WorkloadSchema = WorkloadBase.superRefine((w, ctx) => {
  const inner: z.RefinementCtx = { ...ctx, addIssue: (i) => ctx.addIssue({ ...i, path: ["groups", ...(i.path ?? [])] }) };
  checkUnique(w.groups, (g) => g.name, "name", inner, "group name");
  const durationMs = tryParseDuration(w.duration) ?? 0;
  if (durationMs === 0) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["duration"], message: "duration must be longer than 0" });
  }
  w.events.forEach((e, i) => {
    const at = eventAtMs(e);
    if (durationMs > 0 && at >= durationMs) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["events", i, "at"],
        message: `${e.at} is outside the measured window (0s up to, not including, its duration ${w.duration}); at counts from the window's start, after the warm-up`,
      });
    }
  });
}).transform((w) => ({
  ...w,
  durationMs: tryParseDuration(w.duration) as number,
  warmupMs: tryParseDuration(w.warmup) as number,
}));
export const WorkloadRecordSchema = WorkloadBase.extend({
  groups: z.array(GroupRecordSchema).nonempty(),
  durationMs: z.number().int().positive(),
  warmupMs: z.number().int().nonnegative(),
});
export type Workload = z.output<typeof WorkloadRecordSchema>;

// ---------------------------------------------------------------- scenario

export const FrontSchema = z
  .object({
    balance: z.enum(["round_robin", "least_conn"]).default("round_robin"),
    cpus: z.number().positive().optional(),
  })
  .strict();
export type Front = z.output<typeof FrontSchema>;

export const ProbeSchema = z
  .object({
    /** The saturation probe's measured window per group. */
    duration: DurationTextSchema.default("6s"),
    warmup: DurationTextSchema.default("2s"),
    /** Closed-loop connections of the probe; default 4 per process the topology serves with, at least 8. */
    connections: z.number().int().min(1).optional(),
  })
  .strict();
export type Probe = z.output<typeof ProbeSchema>;

const ScenarioBase = z
  .object({
    name: NameSchema,
    description: z.string().optional(),
    models: z.array(z.string()).nonempty(),
    topologies: z.array(TopologySchema).nonempty(),
    workloads: z.array(WorkloadSchema).nonempty(),
    repeat: z.number().int().min(1).default(1),
    /** Seed of the randomised cell order; recorded with the run when chosen at random. */
    seed: z.number().int().optional(),
    front: FrontSchema.default({}),
    /**
     * The run's own reference points, measured before its cells (run/probe.ts): each model and
     * topology's saturation throughput per group (what "80%" rates are shares of) and the CPU
     * time of every fib n in the model's image under the topology's CPU limit (the physical
     * limit). Runs when set, or when any rate is relative.
     */
    probe: ProbeSchema.optional(),
  })
  .strict();

export const ScenarioSchema = ScenarioBase.superRefine((s, ctx) => {
  const at = (field: string): z.RefinementCtx => ({ ...ctx, addIssue: (i) => ctx.addIssue({ ...i, path: [field, ...(i.path ?? [])] }) });
  checkUnique(s.models, (m) => m, "", at("models"), "model");
  checkUnique(s.topologies, (t) => t.id, "", at("topologies"), "topology id");
  checkUnique(s.workloads, (w) => w.name, "name", at("workloads"), "workload name");
});

/** A validated scenario, as the orchestrator uses it and as the archive stores it. */
export const ScenarioRecordSchema = ScenarioBase.extend({
  topologies: z.array(TopologyRecordSchema).nonempty(),
  workloads: z.array(WorkloadRecordSchema).nonempty(),
  front: FrontSchema,
});
export type Scenario = z.output<typeof ScenarioRecordSchema>;
/** What a scenario file may contain. */
export type ScenarioInput = z.input<typeof ScenarioSchema>;

// Compile-time checks: the parsing schemas and the record schemas describe the same values.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameScenario: Same<z.output<typeof ScenarioSchema>, Scenario> = true;
const sameProtocol: Same<z.output<typeof ProtocolSchema>, Protocol> = true;
void sameScenario;
void sameProtocol;
