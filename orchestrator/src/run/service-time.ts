import type { Deployment } from "../docker/compose.js";
import type { Engine } from "../engine/index.js";
import { ServiceTimeSchema, type ServiceTime } from "../measure/limits.js";
import type { Manifest } from "../models/manifest.js";

/**
 * t(n): fib(n) timed inside the first model container (wherever the engine runs it), by the model's own interpreter and the
 * service's own fib, under the container's CPU limit (an exec joins its cgroup), one call at a
 * time. CPU time is what the physical limit divides by; wall time shows what throttling adds.
 */

/** CPU seconds each n is timed for (at least MIN_CALLS calls each, after one warm-up call). */
const BUDGET_S = 0.4;
const MIN_CALLS = 2;

const PYTHON = `
import json, sys, time
from fiblab.core import fib
budget, out = float(sys.argv[1]), []
for n in map(int, sys.argv[2:]):
    fib(n)
    calls, c0, w0 = 0, time.process_time(), time.perf_counter()
    while calls < ${MIN_CALLS} or time.process_time() - c0 < budget:
        fib(n)
        calls += 1
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    out.append({"n": n, "cpuMs": cpu * 1000 / calls, "wallMs": wall * 1000 / calls, "calls": calls})
print(json.dumps(out))
`;

const NODE = `
import { fib } from "/app/fibservice.js";
const [budget, ...ns] = process.argv.slice(1).map(Number);
const out = [];
const cpuS = (u) => (u.user + u.system) / 1e6;
for (const n of ns) {
  fib(n);
  let calls = 0;
  const c0 = process.cpuUsage(), w0 = performance.now();
  while (calls < ${MIN_CALLS} || cpuS(process.cpuUsage(c0)) < budget) { fib(n); calls++; }
  out.push({ n, cpuMs: (cpuS(process.cpuUsage(c0)) * 1000) / calls, wallMs: (performance.now() - w0) / calls, calls });
}
console.log(JSON.stringify(out));
`;

function command(runtime: string, ns: readonly number[]): string[] | null {
  const args = [String(BUDGET_S), ...ns.map(String)];
  if (runtime === "python") return ["python3", "-B", "-c", PYTHON, ...args];
  if (runtime === "node") return ["node", "--input-type=module", "-e", NODE, "--", ...args];
  return null;
}

/** The measured times, or an error saying why there are none. */
export async function measureServiceTimes(
  engine: Pick<Engine, "execInModel">,
  d: Deployment,
  manifest: Pick<Manifest, "runtime">,
  ns: readonly number[],
): Promise<{ times: ServiceTime[]; error?: string }> {
  if (ns.length === 0) return { times: [] };
  const cmd = command(manifest.runtime, ns);
  if (!cmd) return { times: [], error: `no fib timer for the ${manifest.runtime} runtime` };
  try {
    const stdout = await engine.execInModel(d, cmd, { workdir: "/app", timeoutMs: 180_000 });
    const line = stdout.trim().split("\n").pop() ?? "";
    return { times: ServiceTimeSchema.array().parse(JSON.parse(line)) };
  } catch (e) {
    const err = e as { all?: string; message: string };
    return { times: [], error: `timing fib in the container failed: ${(err.all ?? err.message).slice(0, 500)}` };
  }
}
