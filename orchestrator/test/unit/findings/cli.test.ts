import { execa } from "execa";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../../src/models/catalog.js";
import { CHROMIUM } from "../../../src/findings/render.js";

/**
 * The findings CLI end to end, without Docker: check the fixture FINDINGS.md against the fixture
 * run, and keep that run from a results folder (the charts only where Chromium is installed).
 */

const RUN = "20261127T063038Z-rel-check";
const fixture = path.join(import.meta.dirname, "fixture");
const cli = ["--import", "tsx", path.join(repoRoot, "orchestrator/src/findings/cli.ts")];

function findings(args: string[], env: Record<string, string> = {}) {
  return execa("node", [...cli, ...args], { cwd: repoRoot, env, reject: false, all: true });
}

// Each case starts a Node process with tsx: seconds on a busy machine.
describe("npm run findings:check", { timeout: 60_000 }, () => {
  it("passes the fixture: every figure agrees with its run", async () => {
    const r = await findings(["check", "--file", path.join(fixture, "FINDINGS.md"), "--runs", path.join(fixture, "runs")]);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toContain(`findings:check: FINDINGS.md ok: 8 figure(s) verified against run(s) ${RUN}, 1 marked unchecked`);
  });

  it("fails a wrong figure and a missing image, one line each with its line number", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "fiblab-findings-"));
    const text = (await readFile(path.join(fixture, "FINDINGS.md"), "utf8")).replace("\n164 req/s", "\n165 req/s");
    await writeFile(path.join(dir, "FINDINGS.md"), `${text}\n![chart](charts/none.png)\n`);
    const r = await findings(["check", "--file", path.join(dir, "FINDINGS.md"), "--runs", path.join(fixture, "runs")]);
    expect(r.exitCode).toBe(1);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe(
      `FINDINGS.md:6: "165 req/s" <!-- rows[key=py-prefork.1x1cpu-w2.fib22-80.fib22].throughput.mean -->: mismatch: the run says 164 (163.6)`,
    );
    expect(lines[1]).toBe(`FINDINGS.md:${text.split("\n").length + 1}: "charts/none.png": image not found`);
    expect(lines.at(-1)).toMatch(/^findings:check: 2 problem\(s\); 7 figure\(s\) verified/);
  });

  it("without FINDINGS.md: one clear line, exit 1", async () => {
    const r = await findings(["check", "--file", path.join(os.tmpdir(), "no-such-FINDINGS.md")]);
    expect(r.exitCode).toBe(1);
    expect(r.all).toBe(
      `findings: no ${path.join(os.tmpdir(), "no-such-FINDINGS.md")} yet: write it (the annotation syntax: docs/findings/README.md)`,
    );
  });
});

describe("npm run findings:keep", { timeout: 60_000 }, () => {
  it("a run that is not there: one clear line, exit 1, nothing written", async () => {
    const to = await mkdtemp(path.join(os.tmpdir(), "fiblab-keep-"));
    const r = await findings(["keep", RUN, "20990101T000000Z-nope", "--to", to], { FIBLAB_RESULTS: path.join(fixture, "runs") });
    expect(r.exitCode).toBe(1);
    expect(r.all).toMatch(/^findings: no run 20990101T000000Z-nope: .* does not exist \(complete runs: npm run lab -- results\)$/);
    expect(await readdir(to)).toEqual([]);
  });

  it("keeps the summary, scenario, probes and a README (no charts asked)", async () => {
    const to = await mkdtemp(path.join(os.tmpdir(), "fiblab-keep-"));
    const r = await findings(["keep", RUN, "--no-charts", "--to", to], { FIBLAB_RESULTS: path.join(fixture, "runs") });
    expect(r.exitCode, r.all).toBe(0);
    expect((await readdir(path.join(to, RUN))).sort()).toEqual(["README.md", "probes.json", "scenario.yaml", "summary.json"]);
    expect(await readFile(path.join(to, RUN, "summary.json"), "utf8")).toBe(
      await readFile(path.join(fixture, "runs", RUN, "summary.json"), "utf8"),
    );
  });

  it.skipIf(!existsSync(CHROMIUM))("draws the charts as PNGs in headless Chromium", async () => {
    const to = await mkdtemp(path.join(os.tmpdir(), "fiblab-keep-"));
    const r = await findings(["keep", RUN, "--to", to], { FIBLAB_RESULTS: path.join(fixture, "runs") });
    expect(r.exitCode, r.all).toBe(0);
    const charts = (await readdir(path.join(to, RUN, "charts"))).sort();
    expect(charts).toHaveLength(8);
    for (const c of charts) {
      const png = await readFile(path.join(to, RUN, "charts", c));
      expect(png.subarray(1, 4).toString(), c).toBe("PNG");
      expect(png.length, c).toBeGreaterThan(10_000);
    }
    expect(await readFile(path.join(to, RUN, "README.md"), "utf8")).toContain("`charts/fib22-80.fib22.throughput.png`");
  });
});
