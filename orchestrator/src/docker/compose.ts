import { execa } from "execa";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { repoRoot } from "../models/catalog.js";

/** One model brought up behind the front, through the same compose file users run by hand. */
export interface Deployment {
  /** Compose project name: every container and network of the deployment carries it. */
  project: string;
  model: string;
  replicas: number;
  /** Knobs and limits as compose variables (WORKERS, THREADS, CPUS, MEMORY, BALANCE, ...). */
  env: Record<string, string>;
  httpPort: number;
  tcpPort: number;
  /** Optional CPU pinning of every replica (docker's cpuset syntax, e.g. "0" or "0-1"). */
  cpuset?: string;
  /** Extra labels for every container, e.g. the run id, so an interrupted run can be swept up. */
  labels?: Record<string, string>;
}

export const composeFile = path.join(repoRoot, "docker-compose.yml");

/** The environment compose sees: the deployment's variables over a clean copy of ours. */
export function composeEnv(d: Deployment): Record<string, string> {
  return {
    ...d.env,
    COMPOSE_PROJECT_NAME: d.project,
    FRONT_HTTP_PORT: String(d.httpPort),
    FRONT_TCP_PORT: String(d.tcpPort),
  };
}

/** An override file for what compose variables cannot express (an optional cpuset, labels). */
export function overrideYaml(d: Deployment): string | undefined {
  const lines: string[] = [];
  const labels = Object.entries(d.labels ?? {});
  const labelLines = labels.map(([k, v]) => `      ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  if (d.cpuset === undefined && labels.length === 0) return undefined;
  lines.push("services:");
  lines.push(`  ${d.model}:`);
  if (d.cpuset !== undefined) lines.push(`    cpuset: ${JSON.stringify(d.cpuset)}`);
  if (labels.length) lines.push("    labels:", ...labelLines);
  if (labels.length) lines.push("  front:", "    labels:", ...labelLines);
  if (labels.length) lines.push("networks:", "  lab:", "    labels:", ...labelLines);
  return lines.join("\n") + "\n";
}

async function composeArgs(d: Deployment): Promise<string[]> {
  const args = ["compose", "-f", composeFile];
  const override = overrideYaml(d);
  if (override) {
    const dir = await mkdtemp(path.join(os.tmpdir(), "fiblab-compose-"));
    const file = path.join(dir, "override.yml");
    await writeFile(file, override);
    args.push("-f", file);
  }
  args.push("-p", d.project, "--profile", d.model);
  return args;
}

export async function compose(d: Deployment, sub: string[], opts: { timeoutMs?: number } = {}) {
  const args = [...(await composeArgs(d)), ...sub];
  return execa("docker", args, {
    env: composeEnv(d),
    cwd: repoRoot,
    timeout: opts.timeoutMs ?? 300_000,
    all: true,
  });
}

/** Up and healthy (every healthcheck passing), or throws with compose's output. */
export async function up(d: Deployment, opts: { waitTimeoutS?: number } = {}): Promise<void> {
  const wait = opts.waitTimeoutS ?? 120;
  await compose(d, ["up", "-d", "--no-build", "--wait", "--wait-timeout", String(wait), "--scale", `${d.model}=${d.replicas}`], {
    timeoutMs: (wait + 60) * 1000,
  });
}

/** Change the replica count of a running deployment; the front reloads itself on the change. */
export async function scale(d: Deployment, replicas: number, opts: { timeoutMs?: number } = {}): Promise<void> {
  await compose({ ...d, replicas }, ["up", "-d", "--no-build", "--wait", "--no-recreate", "--scale", `${d.model}=${replicas}`], opts);
}

/** Remove every container, network and anonymous volume of the project. Safe to call twice. */
export async function down(d: Pick<Deployment, "project" | "model">): Promise<void> {
  await execa(
    "docker",
    ["compose", "-f", composeFile, "-p", d.project, "--profile", d.model, "down", "--volumes", "--remove-orphans", "--timeout", "5"],
    { cwd: repoRoot, env: { COMPOSE_PROJECT_NAME: d.project }, timeout: 120_000, reject: false },
  );
}
