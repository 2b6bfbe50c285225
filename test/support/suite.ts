import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, expect } from "vitest";
import type { Manifest } from "../../orchestrator/src/models/manifest.js";
import { containersOf, fastDown, liveness, serverProcesses, type Liveness } from "./containers.js";
import { deployModel, leftovers, type Running } from "./deploy.js";
import { DirectMux } from "./direct.js";
import { traitsOf, type Traits } from "./models.js";
import { socketDialer, type Dialer } from "./raw.js";
import { docker } from "../../orchestrator/src/docker/client.js";
import { runLabel, sweepByLabel } from "../../orchestrator/src/docker/sweep.js";

/** One deployed model as the suites see it. Fields are filled in by beforeAll. */
export interface ModelUnderTest {
  manifest: Manifest;
  traits: Traits;
  lab: Running;
  /** The model's first replica. */
  containerId: string;
  hostname: string;
  frontId: string;
  /** Straight to the model's own ports, from inside its container (undefined if not opened). */
  mux?: DirectMux;
  front: { http: Dialer; tcp: Dialer };
  direct: { http?: Dialer; tcp?: Dialer };
  /** State right after the deploy, to compare with at the end. */
  start: { live: Liveness; processes: Array<{ pid: string; cmd: string }> };
}

async function imageExists(model: string): Promise<boolean> {
  const r = await execa("docker", ["image", "inspect", `fiblab/${model}:latest`], { reject: false });
  return r.exitCode === 0;
}

/**
 * Deploy `manifest`'s model behind its own front for the enclosing describe block (beforeAll),
 * tear it down afterwards (afterAll) and check nothing is left. Returns a handle whose fields
 * are valid inside tests.
 */
export function useModel(manifest: Manifest, opts: { env?: Record<string, string>; direct?: boolean } = {}): ModelUnderTest {
  const t = { manifest, traits: traitsOf(manifest, opts.env) } as ModelUnderTest;
  beforeAll(async () => {
    if (!(await imageExists(manifest.name))) {
      throw new Error(`image fiblab/${manifest.name}:latest is missing: run \`docker compose build ${manifest.name}\``);
    }
    t.lab = await deployModel(manifest.name, { env: opts.env });
    const { model, front } = await containersOf(t.lab);
    t.containerId = model[0]!.Id;
    t.frontId = front[0]!.Id;
    const c = docker.getContainer(t.containerId);
    t.hostname = (await c.inspect()).Config.Hostname;
    t.front = { http: socketDialer(t.lab.httpPort), tcp: socketDialer(t.lab.tcpPort) };
    t.direct = {};
    if (opts.direct) {
      t.mux = new DirectMux(t.containerId, manifest.runtime);
      if (t.traits.http) t.direct.http = t.mux.dialer(8000);
      if (t.traits.tcp) t.direct.tcp = t.mux.dialer(25000);
    }
    t.start = { live: await liveness(c), processes: await serverProcesses(c) };
  });
  afterAll(async () => {
    await t.mux?.close();
    await fastDown(t.lab);
    if (t.lab) expect(await leftovers(t.lab.deployment.project)).toBe(0);
  });
  return t;
}

/** The model is still the same running container, never restarted, and (optionally) every
 * server process it started with is still there (no worker died and was replaced). */
export async function expectUnharmed(t: ModelUnderTest, opts: { processes?: boolean } = {}): Promise<void> {
  const c = docker.getContainer(t.containerId);
  const live = await liveness(c);
  expect(live.running, "model container running").toBe(true);
  expect(live.restartCount, "model container RestartCount").toBe(0);
  expect(live.startedAt, "model container StartedAt").toBe(t.start.live.startedAt);
  const front = await liveness(docker.getContainer(t.frontId));
  expect(front.running && front.restartCount === 0, "front running, never restarted").toBe(true);
  if (opts.processes) {
    const now = new Set((await serverProcesses(c)).map((p) => p.pid));
    // A fork-per-connection model's children come and go with connections (the front's pooled
    // ones included): only its parent is expected to last.
    const lasting = t.traits.forkPerConnection
      ? [...t.start.processes].sort((a, b) => Number(a.pid) - Number(b.pid)).slice(0, 1)
      : t.start.processes;
    const gone = lasting.filter((p) => !now.has(p.pid));
    expect(gone, "server processes present at the start that are gone now (a worker died?)").toEqual([]);
  }
}

/**
 * Stands in for `it` or `describe` where a check does not apply to a model (TCP checks for an
 * HTTP-only model): the test is not defined for it, rather than reported as skipped.
 */
export function none(_name: string, _fn?: unknown, _timeout?: number): void {}

/** Load clients' lab for the enclosing describe block. Fields are filled in by beforeAll. */
export interface ClientLab {
  lab: Running;
  /** A scratch folder for the clients' output, removed afterwards. */
  outRoot: string;
  /** The lab network the clients join. */
  network: string;
}

/**
 * Deploy `model` behind its front for the enclosing describe block (beforeAll); afterwards, tear
 * it down and check that no container of run `runId` nor of the deployment is left.
 */
export function useClientLab(model: string, runId: string, scratchPrefix: string): ClientLab {
  const t = {} as ClientLab;
  beforeAll(async () => {
    t.lab = await deployModel(model);
    t.network = `${t.lab.deployment.project}_lab`;
    t.outRoot = mkdtempSync(path.join(tmpdir(), scratchPrefix));
  });
  afterAll(async () => {
    const stray = (await sweepByLabel(runLabel(runId))).containers;
    await t.lab?.down();
    if (t.outRoot) rmSync(t.outRoot, { recursive: true, force: true });
    expect(stray).toBe(0);
    if (t.lab) expect(await leftovers(t.lab.deployment.project)).toBe(0);
  });
  return t;
}
