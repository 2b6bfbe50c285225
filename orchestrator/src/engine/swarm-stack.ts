import { z } from "zod";
import { LABEL } from "../docker/labels.js";

/**
 * Pure: a cell's stack file for `docker stack deploy`, made from the compose file's own resolved
 * services (`docker compose config --format json`), so images, knobs, hardening, healthchecks and
 * limits are written once, in docker-compose.yml. What Swarm changes:
 *
 * - the model's service is named `model` (the front's MODEL_HOST), and both services resolve by
 *   DNS round robin (`endpoint_mode: dnsrr`): a virtual IP does not answer inside nested
 *   namespaces, and the front lists the replicas itself anyway;
 * - the front's ports are published in `host` mode on the server node, not through the mesh;
 * - both are placed on nodes labelled fiblab.role=server, replicas and CPU limits from the topology;
 * - the network is an attachable overlay, so the clients' containers on other nodes can join it;
 * - options Swarm does not take are dropped and listed (see `dropped`).
 */

const HealthSchema = z
  .object({ test: z.array(z.string()), interval: z.string(), timeout: z.string(), retries: z.number(), start_period: z.string() })
  .partial()
  .passthrough();

const ComposeServiceSchema = z
  .object({
    image: z.string(),
    user: z.string().optional(),
    read_only: z.boolean().optional(),
    cap_drop: z.array(z.string()).optional(),
    security_opt: z.array(z.string()).optional(),
    tmpfs: z.array(z.string()).optional(),
    cpuset: z.string().optional(),
    environment: z.record(z.string().nullable()).optional(),
    healthcheck: HealthSchema.optional(),
    labels: z.record(z.string()).optional(),
    restart: z.string().optional(),
    stop_grace_period: z.string().optional(),
    deploy: z
      .object({
        resources: z
          .object({ limits: z.object({ cpus: z.union([z.number(), z.string()]), memory: z.string(), pids: z.number() }).partial() })
          .partial()
          .optional(),
      })
      .passthrough()
      .optional(),
  })
  .passthrough();

export const ComposeConfigSchema = z.object({ services: z.record(ComposeServiceSchema) }).passthrough();
export type ComposeConfig = z.infer<typeof ComposeConfigSchema>;
type ComposeService = z.infer<typeof ComposeServiceSchema>;

/** The node label the stack places the model and the front by. */
export const SERVER_CONSTRAINT = `node.labels.${LABEL.role} == server`;
/** The stack's service names. */
export const STACK_SERVICES = { model: "model", front: "front" } as const;

export interface StackInput {
  model: string;
  replicas: number;
  /** The run and cell labels, on every service, container and the network. */
  labels: Record<string, string>;
  /** Ports of the server node the front is published on (host mode). */
  frontPorts: { http: number; tcp: number };
}

export interface Stack {
  /** The stack file, as an object (written as JSON, which YAML reads). */
  file: Record<string, unknown>;
  /** Compose options Swarm does not carry over, as "service: option". */
  dropped: string[];
}

/** "size=64m" → bytes (tmpfs options), undefined when absent. */
export function tmpfsSize(options: string): number | undefined {
  const m = /(?:^|,)size=(\d+)([kmg]?)/i.exec(options);
  if (!m) return undefined;
  const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? "").toLowerCase()] ?? 1;
  return Number(m[1]) * unit;
}

/** Compose's restart policy as Swarm's restart condition. */
export function restartCondition(restart: string | undefined): "none" | "on-failure" | "any" {
  if (restart === undefined || restart === "no") return "none";
  return restart === "on-failure" ? "on-failure" : "any";
}

function tmpfsMounts(entries: string[]) {
  return entries.map((e) => {
    const [target, options = ""] = e.split(":");
    const size = tmpfsSize(options);
    return { type: "tmpfs", target, ...(size !== undefined ? { tmpfs: { size } } : {}) };
  });
}

function droppedOf(name: string, s: ComposeService): string[] {
  const out: string[] = [];
  if (s.security_opt?.length) out.push(`${name}: security_opt ${s.security_opt.join(",")}`);
  if (s.cpuset !== undefined) out.push(`${name}: cpuset ${s.cpuset}`);
  if (s.deploy?.resources?.limits?.pids !== undefined) out.push(`${name}: pids limit ${s.deploy.resources.limits.pids}`);
  return out;
}

function swarmService(s: ComposeService, replicas: number, labels: Record<string, string>) {
  const limits = s.deploy?.resources?.limits ?? {};
  // start_interval is newer than the stack file format Swarm reads.
  const { start_interval: _start, ...health } = (s.healthcheck ?? {}) as Record<string, unknown>;
  return {
    image: s.image,
    ...(s.user !== undefined ? { user: s.user } : {}),
    ...(s.read_only !== undefined ? { read_only: s.read_only } : {}),
    ...(s.cap_drop ? { cap_drop: s.cap_drop } : {}),
    environment: Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, v ?? ""])),
    ...(s.healthcheck ? { healthcheck: health } : {}),
    ...(s.stop_grace_period !== undefined ? { stop_grace_period: s.stop_grace_period } : {}),
    labels: { ...s.labels, ...labels },
    ...(s.tmpfs?.length ? { volumes: tmpfsMounts(s.tmpfs) } : {}),
    networks: ["lab"],
    deploy: {
      endpoint_mode: "dnsrr",
      replicas,
      placement: { constraints: [SERVER_CONSTRAINT] },
      resources: {
        limits: {
          ...(limits.cpus !== undefined ? { cpus: String(limits.cpus) } : {}),
          ...(limits.memory !== undefined ? { memory: /^\d+$/.test(limits.memory) ? `${limits.memory}b` : limits.memory } : {}),
        },
      },
      restart_policy: { condition: restartCondition(s.restart) },
      labels: { ...labels },
    },
  };
}

/** The stack of one cell; see the module comment. */
export function stackFromCompose(config: ComposeConfig, input: StackInput): Stack {
  const model = config.services[input.model];
  const front = config.services.front;
  if (!model) throw new Error(`compose has no service ${input.model}`);
  if (!front) throw new Error("compose has no front service");
  const frontService = swarmService(front, 1, input.labels);
  const ports = [
    { target: 8080, published: input.frontPorts.http, protocol: "tcp", mode: "host" },
    { target: 25000, published: input.frontPorts.tcp, protocol: "tcp", mode: "host" },
  ];
  return {
    file: {
      version: "3.8",
      services: {
        [STACK_SERVICES.model]: swarmService(model, input.replicas, input.labels),
        [STACK_SERVICES.front]: {
          ...frontService,
          environment: { ...frontService.environment, MODEL_HOST: STACK_SERVICES.model },
          ports,
        },
      },
      networks: { lab: { driver: "overlay", attachable: true, labels: { ...input.labels, [LABEL.role]: "network" } } },
    },
    dropped: [...droppedOf(input.model, model), ...droppedOf("front", front)],
  };
}
