import { execa } from "execa";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../orchestrator/src/models/catalog.js";

/**
 * `lab export k8s` on every shipped scenario, through the CLI, and every object it writes decoded
 * strictly against the real Kubernetes API types (k8s.io/api) and the k6-operator's TestRun by the
 * Go validator in loadtests/k8s-validate: an unknown field anywhere fails. No cluster needed.
 */

const cli = ["--import", "tsx", path.join(repoRoot, "orchestrator/src/cli.ts")];
const validatorDir = path.join(repoRoot, "loadtests/k8s-validate");
const scenariosDir = path.join(repoRoot, "loadtests/scenarios");

let tmp: string;
let validatorBin: string;

function lab(args: string[]) {
  return execa("node", [...cli, ...args], { cwd: repoRoot, env: { FIBLAB_RESULTS: tmp }, reject: false, all: true });
}

function validate(...paths: string[]) {
  return execa(validatorBin, paths, { reject: false, all: true });
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "fiblab-k8s-"));
  validatorBin = path.join(tmp, "k8s-validate");
  // Built once (go run would link it per call); modules come from the Go module proxy or the cache.
  const build = await execa("go", ["build", "-o", validatorBin, "."], { cwd: validatorDir, reject: false, all: true });
  if (build.exitCode !== 0) throw new Error(`go build of the validator failed:\n${build.all}`);
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe("lab export k8s", async () => {
  const scenarios = (await readdir(scenariosDir)).filter((f) => f.endsWith(".yaml")).sort();

  it("has shipped scenarios to export", () => expect(scenarios.length).toBeGreaterThanOrEqual(4));

  it.each(scenarios)("exports every cell of %s, and every object decodes strictly", async (file) => {
    const out = path.join(tmp, file.replace(/\.yaml$/, ""));
    // --capacity: what relative rates ("80%") are shares of; a lab run probes it itself.
    const r = await lab(["export", "k8s", path.join(scenariosDir, file), "--out", out, "--registry", "prefix/lab", "--capacity", "100"]);
    expect(r.exitCode, r.all).toBe(0);
    const index = JSON.parse(await readFile(path.join(out, "export.json"), "utf8")) as { cells: { file: string }[] };
    const plan = await lab(["plan", path.join(scenariosDir, file)]);
    const cellsInPlan = plan.stdout.split("\n").filter((l) => /^\s+\d+\. /.test(l)).length;
    expect(index.cells).toHaveLength(cellsInPlan);
    const yamls = (await readdir(out)).filter((f) => f.endsWith(".yaml"));
    expect(yamls.sort()).toEqual(["namespace.yaml", ...index.cells.map((c) => c.file)].sort());
    const v = await validate(out);
    expect(v.exitCode, v.all).toBe(0);
    expect(v.stdout).toMatch(/apps\/v1\/Deployment=\d+/);
  });

  it("exports one cell with --cell", async () => {
    const file = path.join(scenariosDir, "smoke.yaml");
    const plan = await lab(["plan", file]);
    const id = /^\s+1\. (\S+)$/m.exec(plan.stdout)?.[1];
    expect(id).toBeDefined();
    const out = path.join(tmp, "one");
    const r = await lab(["export", "k8s", file, "--cell", id as string, "--out", out]);
    expect(r.exitCode, r.all).toBe(0);
    expect((await readdir(out)).sort()).toEqual([`${id}.yaml`, "export.json", "namespace.yaml"].sort());
    expect((await validate(out)).exitCode).toBe(0);
  });

  it("rejects a corrupted manifest: an unknown field, in a core type or in the TestRun", async () => {
    const out = path.join(tmp, "corrupt");
    expect((await lab(["export", "k8s", path.join(scenariosDir, "smoke.yaml"), "--out", out])).exitCode).toBe(0);
    const files = (await readdir(out)).filter((f) => f.endsWith(".yaml") && f !== "namespace.yaml");
    const withTestRun = [];
    for (const f of files) if ((await readFile(path.join(out, f), "utf8")).includes("kind: TestRun")) withTestRun.push(f);
    expect(withTestRun.length).toBeGreaterThan(0);
    const original = await readFile(path.join(out, withTestRun[0] as string), "utf8");
    const cases: [string, string][] = [
      [
        "a misspelt pod field",
        original.replace("      enableServiceLinks: false\n", "      enableServiceLinks: false\n      restartPolcy: Never\n"),
      ],
      [
        "a field k8s does not have",
        original.replace("          readinessProbe:\n", "          healthcheck: {}\n          readinessProbe:\n"),
      ],
      ["a field the operator does not have", original.replace("  parallelism: ", "  paralellism: 1\n  parallelism: ")],
    ];
    for (const [what, text] of cases) {
      expect(text, what).not.toBe(original);
      const bad = path.join(tmp, "bad.yaml");
      await writeFile(bad, text);
      const v = await validate(bad);
      expect(v.exitCode, what).toBe(1);
      expect(v.stderr, what).toMatch(/unknown field/);
    }
  });

  it("says what is wrong in one line: an unknown cell, a missing file", async () => {
    const r = await lab(["export", "k8s", path.join(scenariosDir, "smoke.yaml"), "--cell", "nope", "--out", path.join(tmp, "x")]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^lab: no cell "nope" in scenario smoke/);
    const relative = await lab(["export", "k8s", path.join(scenariosDir, "masters-vs-pods-quick.yaml"), "--out", path.join(tmp, "y")]);
    expect(relative.exitCode).toBe(1);
    expect(relative.stderr.trim().split("\n")).toHaveLength(1);
    expect(relative.stderr).toMatch(/^lab: scenario masters-vs-pods-quick writes rates as shares of a probed capacity .*--capacity/);
    const missing = await lab(["export", "k8s", path.join(tmp, "missing.yaml")]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/^lab: /);
  });
});
