import { z } from "zod";
import { ContainerRoleSchema } from "./container-stats.js";

/** Where a cell's parts ran, and on what: written by the engine (engine/), read by the reports. */

/** One part of a cell (a model replica, the front, a client) and the node it ran on. */
export const PlacementSchema = z.object({
  role: ContainerRoleSchema,
  /** The container's name on its node. */
  name: z.string(),
  /** The host name of the machine (or swarm node) it ran on. */
  node: z.string(),
  group: z.string().optional(),
  clientIndex: z.number().int().optional(),
});
export type Placement = z.infer<typeof PlacementSchema>;

/** The engine a run used and, for a swarm, its nodes (environment.json, the run summary). */
export const EngineInfoSchema = z.object({
  name: z.string(),
  nodes: z.array(z.object({ name: z.string(), role: z.string(), docker: z.string() })).default([]),
});
export type EngineInfo = z.infer<typeof EngineInfoSchema>;

/** Pure: "model on a, b; front on a; clients fib20 on c, d" (nodes in order of first appearance). */
export function placementSummary(placements: readonly Placement[]): string {
  const nodes = (ps: readonly Placement[]) => [...new Set(ps.map((p) => p.node))].join(", ");
  const parts: string[] = [];
  for (const role of ["model", "front"] as const) {
    const mine = placements.filter((p) => p.role === role);
    if (mine.length > 0) parts.push(`${role} on ${nodes(mine)}`);
  }
  const groups = [...new Set(placements.filter((p) => p.role === "client").map((p) => p.group ?? ""))];
  const clients = groups.map((g) => `${g || "?"} on ${nodes(placements.filter((p) => p.role === "client" && (p.group ?? "") === g))}`);
  if (clients.length > 0) parts.push(`clients ${clients.join("; ")}`);
  return parts.join("; ");
}

/** Pure: one line per cell naming the nodes its parts ran on; none when every part ran on one machine. */
export function placementLines(cells: readonly { id: string; placements?: readonly Placement[] | undefined }[]): string[] {
  const nodes = new Set(cells.flatMap((c) => (c.placements ?? []).map((p) => p.node)));
  if (nodes.size < 2) return [];
  return cells.flatMap((c) => (c.placements?.length ? [`${c.id}: ${placementSummary(c.placements)}`] : []));
}
