import type Docker from "dockerode";
import type { ClientResult } from "../../../loadtests/contract/result.js";
import type { Tool } from "../scenario/schema.js";
import type { ClientPlan, ClientSpec, FleetGroup, PlanContext, ToolContainer } from "./plan.js";

/**
 * One driver per load tool, all with the same small interface, so that launch.ts reads as
 * create → start → release → wait → collect whatever the tools are, and a new tool is a new
 * driver rather than more branches there.
 */

/** One live progress sample of one client (about once a second). */
export interface ClientProgress {
  group: string;
  clientIndex: number;
  tool: Tool;
  /** Epoch ms. */
  t: number;
  /** Replies per second over the last interval (all phases). */
  rps: number;
  phase?: string;
  sent?: number;
  ok?: number;
  errors?: number;
  dropped?: number;
}

/** A client container that has been created and started. */
export interface RunningClient {
  spec: ClientSpec;
  container: Docker.Container;
  /** When the tool was let go (epoch ms): the common start, or when k6 was resumed. */
  releasedAt?: number;
  exitCode: number | null;
  /** Why it ended badly (killed at the hard timeout, aborted), if it did. */
  error?: string;
}

export interface ReleaseContext {
  /** The common start, epoch ms. */
  startAt: number;
  signal?: AbortSignal;
  say(line: string): void;
}

export interface WatchContext {
  startAt: number;
  measureStart: number;
  measureEnd: number;
  emit(p: ClientProgress): void;
}

export interface CollectContext {
  warmupMs: number;
  durationMs: number;
}

export interface LoadDriver {
  /** The tool's container for one client: image, command, environment, an API port to publish. */
  plan(group: FleetGroup, client: ClientPlan, ctx: PlanContext): ToolContainer;
  /** Hold this tool's clients at the start barrier and let them all go at ctx.startAt. */
  release(clients: RunningClient[], ctx: ReleaseContext): Promise<void>;
  /** Progress the clients do not print themselves; returns the function that stops watching. */
  watch?(clients: RunningClient[], ctx: WatchContext): () => void;
  /** The validated result of one client that has exited (throws when there is none). */
  collect(client: RunningClient, ctx: CollectContext): Promise<ClientResult>;
}
