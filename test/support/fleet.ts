import path from "node:path";
import type { FleetGroup, FleetSpec } from "../../orchestrator/src/fleet/plan.js";

// Free of vitest: loadtests/client/scripts/smoke-fleet.ts runs these cells by hand.

export const fib = (arg: number, weight = 1) => ({ text: `fib ${arg}`, kind: "fib" as const, arg, weight });

/** A brief, gentle cell for `groups`: 3 s measured after 1 s of warm-up, its output in outRoot/name. */
export function briefFleet(
  where: { runId: string; network: string; outRoot: string },
  name: string,
  groups: FleetGroup[],
  more: Partial<FleetSpec> = {},
): FleetSpec {
  return {
    runId: where.runId,
    cellId: name,
    network: where.network,
    outDir: path.join(where.outRoot, name),
    groups,
    durationMs: 3000,
    warmupMs: 1000,
    startDelayMs: 3000,
    requestTimeoutMs: 5000,
    ...more,
  };
}
