/**
 * Every container and network a lab run makes carries labels, so that whatever happens
 * (an interrupt, a crash) it can be found and removed by label alone, and so that the sampler
 * can tell the roles apart. The keys are written here and nowhere else.
 */
export const LABEL = {
  run: "fiblab.run",
  cell: "fiblab.cell",
  role: "fiblab.role",
  group: "fiblab.group",
  clientIndex: "fiblab.client-index",
  /** Set by compose on everything of a project. */
  composeProject: "com.docker.compose.project",
} as const;

export const ROLES = ["model", "front", "client"] as const;
export type Role = (typeof ROLES)[number];

/** The labels of one cell's containers: the run, the cell, and for clients their place in the fleet. */
export function cellLabels(runId: string, cellId?: string): Record<string, string> {
  return { [LABEL.run]: runId, ...(cellId !== undefined ? { [LABEL.cell]: cellId } : {}) };
}

export function clientLabels(group: string, clientIndex: number): Record<string, string> {
  return { [LABEL.role]: "client", [LABEL.group]: group, [LABEL.clientIndex]: String(clientIndex) };
}

/** A docker label filter, "key=value" (or just "key": any value). */
export function labelFilter(key: string, value?: string): string {
  return value === undefined ? key : `${key}=${value}`;
}

export function roleOf(labels: Readonly<Record<string, string>>): Role | undefined {
  const role = labels[LABEL.role];
  return (ROLES as readonly string[]).includes(role ?? "") ? (role as Role) : undefined;
}
