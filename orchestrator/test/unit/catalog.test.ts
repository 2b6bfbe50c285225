import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import YAML from "yaml";
import { describe, expect, it } from "vitest";
import { loadCatalog, repoRoot } from "../../src/models/catalog.js";
import { planScenario } from "../../src/run/runner.js";

describe("the catalog", () => {
  it("lists the 16 models of the design and the calibration target", async () => {
    const catalog = await loadCatalog();
    const models = catalog.filter((m) => m.kind === "model").map((m) => m.name);
    expect(models).toHaveLength(16);
    expect(catalog.filter((m) => m.kind === "calibration").map((m) => m.name)).toEqual(["calibrate"]);
    // Framework models serve HTTP only; every hand-written one serves both.
    for (const m of catalog) {
      const framework = /^(gunicorn|uvicorn|uwsgi)/.test(m.name);
      expect(m.protocols.slice().sort(), m.name).toEqual(framework ? ["http"] : ["http", "tcp"]);
    }
  });

  it("has exactly one compose service, in a profile of its own name, per manifest", async () => {
    const compose = YAML.parse(await readFile(path.join(repoRoot, "docker-compose.yml"), "utf8"), { merge: true });
    const services = compose.services as Record<string, { profiles?: string[]; image?: string; build?: { dockerfile?: string } }>;
    const fromCompose = Object.entries(services)
      .filter(([, s]) => s.build?.dockerfile?.endsWith("/Dockerfile") && s.build.dockerfile.split("/").length === 2)
      .map(([name]) => name)
      .sort();
    const catalog = (await loadCatalog()).map((m) => m.name);
    expect(fromCompose).toEqual(catalog);
    for (const name of catalog) {
      expect(services[name]?.profiles).toEqual([name]);
      expect(services[name]?.image).toBe(`fiblab/${name}:latest`);
    }
  });
});

describe("the shipped scenarios", async () => {
  const dir = path.join(repoRoot, "loadtests/scenarios");
  const files = (await readdir(dir)).filter((f) => f.endsWith(".yaml"));
  it("exist", () => expect(files.length).toBeGreaterThanOrEqual(4));
  it.each(files)("%s validates against the catalog", async (f) => {
    const { expansion } = await planScenario(path.join(dir, f));
    expect(expansion.cells.length).toBeGreaterThan(0);
  });
});
