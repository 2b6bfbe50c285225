import { createWriteStream } from "node:fs";
import path from "node:path";
import { PassThrough } from "node:stream";
import { createInterface } from "node:readline";
import type Docker from "dockerode";
import { parseProgressLine } from "../../../loadtests/contract/env.js";
import { docker } from "../docker/client.js";
import { HARDENING, hardenedHostConfig } from "../docker/hardening.js";
import type { ClientProgress, RunningClient } from "./driver.js";
import type { ClientSpec } from "./plan.js";

/** The Docker side of one client container: create, follow its output, wait for its end. */

const CLIENT_PIDS_LIMIT = 512;

export function createOptions(spec: ClientSpec, network: string): Docker.ContainerCreateOptions {
  const apiPort = spec.apiPort ? `${spec.apiPort}/tcp` : undefined;
  return {
    name: spec.name,
    Image: spec.image,
    User: HARDENING.user,
    ...(spec.cmd ? { Cmd: spec.cmd } : {}),
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    Labels: spec.labels,
    ...(apiPort ? { ExposedPorts: { [apiPort]: {} } } : {}),
    HostConfig: {
      ...hardenedHostConfig(),
      NanoCpus: spec.nanoCpus,
      Memory: spec.memoryBytes,
      MemorySwap: spec.memoryBytes,
      PidsLimit: CLIENT_PIDS_LIMIT,
      NetworkMode: network,
      Binds: [`${spec.outDir}:/out`],
      AutoRemove: false,
      ...(apiPort ? { PortBindings: { [apiPort]: [{ HostIp: "127.0.0.1", HostPort: "" }] } } : {}),
    },
  };
}

export async function createClient(spec: ClientSpec, network: string): Promise<RunningClient> {
  const container = await docker.createContainer(createOptions(spec, network));
  return { spec, container, exitCode: null };
}

/**
 * Streams a container's output into <outDir>/client.log; JSON progress lines go to onProgress,
 * every other line to onLog. Resolves when the container's output ends.
 */
export async function follow(c: RunningClient, onProgress: (p: ClientProgress) => void, onLog: (line: string) => void): Promise<void> {
  const log = createWriteStream(path.join(c.spec.outDir, "client.log"));
  try {
    const stream = (await c.container.logs({ follow: true, stdout: true, stderr: true })) as NodeJS.ReadableStream;
    const out = new PassThrough();
    const err = new PassThrough();
    docker.modem.demuxStream(stream, out, err);
    stream.on("end", () => {
      out.end();
      err.end();
    });
    const lines = (input: PassThrough, stderr: boolean) =>
      new Promise<void>((resolve) => {
        const rl = createInterface({ input, crlfDelay: Infinity });
        rl.on("line", (line) => {
          log.write(`${stderr ? "! " : ""}${line}\n`);
          const p = stderr ? undefined : parseProgressLine(line);
          if (p) {
            const { done: _done, ...rest } = p;
            onProgress({ group: c.spec.group, clientIndex: c.spec.clientIndex, tool: c.spec.tool, ...rest });
          } else {
            onLog(line);
          }
        });
        rl.on("close", resolve);
      });
    await Promise.all([lines(out, false), lines(err, true)]);
  } finally {
    log.end();
  }
}

/**
 * Waits for the container to exit; one still running at the deadline or on abort is killed, and
 * the reason kept on the client.
 */
export async function waitForExit(c: RunningClient, deadline: number, signal?: AbortSignal): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), Math.max(0, deadline - Date.now()));
  });
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<"aborted">((resolve) => {
    if (signal?.aborted) resolve("aborted");
    onAbort = () => resolve("aborted");
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  const outcome = await Promise.race([c.container.wait() as Promise<{ StatusCode: number }>, timedOut, aborted]);
  clearTimeout(timer);
  // One signal may serve many fleets (a benchmark's whole run): leave no listener behind.
  if (onAbort) signal?.removeEventListener("abort", onAbort);
  if (outcome === "timeout" || outcome === "aborted") {
    c.error = outcome === "timeout" ? "killed: still running at the hard timeout" : "aborted";
    await c.container.kill().catch(() => undefined);
    const w = (await c.container.wait().catch(() => ({ StatusCode: -1 }))) as { StatusCode: number };
    c.exitCode = w.StatusCode;
  } else {
    c.exitCode = outcome.StatusCode;
  }
}

export async function removeClient(c: RunningClient): Promise<void> {
  await c.container.remove({ force: true, v: true }).catch(() => undefined);
}
