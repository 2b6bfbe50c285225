import Docker from "dockerode";

/** The one engine client every part of the orchestrator talks through (the local socket). */
export const docker = new Docker();
export type { Docker };
