import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import YAML from "yaml";
import { describe, expect, it } from "vitest";
import { loadCatalog, repoRoot } from "../../src/models/catalog.js";
import { planScenario } from "../../src/run/runner.js";
import { HARDENING, hardenedHostConfig } from "../../src/docker/hardening.js";

describe("the catalog", () => {
  it("lists the 24 models of the design and the calibration target", async () => {
    const catalog = await loadCatalog();
    const models = catalog.filter((m) => m.kind === "model").map((m) => m.name);
    expect(models).toHaveLength(24);
    expect(catalog.filter((m) => m.kind === "calibration").map((m) => m.name)).toEqual(["calibrate"]);
    // Framework models serve HTTP only; every hand-written one serves both.
    for (const m of catalog) {
      const framework = /^(gunicorn|uvicorn|uwsgi)/.test(m.name);
      expect(m.protocols.slice().sort(), m.name).toEqual(framework ? ["http"] : ["http", "tcp"]);
    }
  });

  it("has exactly one compose service, in a profile of its own name, per manifest", async () => {
    const services = await composeServices();
    const fromCompose = Object.entries(services)
      .filter(([, s]) => s.labels?.["fiblab.role"] === "model")
      .map(([name]) => name)
      .sort();
    const catalog = (await loadCatalog()).map((m) => m.name);
    expect(fromCompose).toEqual(catalog);
    for (const name of catalog) {
      expect(services[name]?.profiles).toEqual([name]);
      expect(services[name]?.image).toBe(`fiblab/${name}:latest`);
    }
  });

  it("gives every manifest knob the manifest's default in the compose file (users run it by hand)", async () => {
    const services = await composeServices();
    for (const m of await loadCatalog()) {
      const env = services[m.name]?.environment ?? {};
      for (const [knob, spec] of Object.entries(m.knobs)) {
        expect(env[knob], `${m.name}: ${knob} is not passed to the container`).toBeDefined();
        // "${WORKERS:-2}": what compose substitutes when the variable is unset.
        const dflt = /^\$\{[A-Z0-9_]+:-(.*)\}$/.exec(String(env[knob]))?.[1];
        expect(dflt, `${m.name}: ${knob} default`).toBe(String(spec.default));
      }
    }
  });

  it("hardens models, the front and the fleet's containers alike", async () => {
    const services = await composeServices();
    const fleet = hardenedHostConfig();
    for (const [name, s] of Object.entries(services)) {
      if (!s.labels?.["fiblab.role"]) continue;
      expect(s.read_only, name).toBe(HARDENING.readOnly);
      expect(s.cap_drop, name).toEqual(fleet.CapDrop);
      expect(s.security_opt, name).toEqual(fleet.SecurityOpt);
      expect(s.tmpfs, name).toEqual(Object.entries(HARDENING.tmpfs).map(([dir, opts]) => `${dir}:${opts}`));
      expect(s.user, name).toBe(HARDENING.user);
    }
  });
});

interface ComposeService {
  profiles?: string[];
  image?: string;
  labels?: Record<string, string>;
  environment?: Record<string, string | number>;
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  tmpfs?: string[];
  user?: string;
}

async function composeServices(): Promise<Record<string, ComposeService>> {
  const compose = YAML.parse(await readFile(path.join(repoRoot, "docker-compose.yml"), "utf8"), { merge: true });
  return compose.services as Record<string, ComposeService>;
}

describe("the shipped scenarios", async () => {
  const dir = path.join(repoRoot, "loadtests/scenarios");
  const files = (await readdir(dir)).filter((f) => f.endsWith(".yaml"));
  it("exist", () => expect(files.length).toBeGreaterThanOrEqual(4));
  it.each(files)("%s validates against the catalog", async (f) => {
    const { expansion } = await planScenario(path.join(dir, f));
    expect(expansion.cells.length).toBeGreaterThan(0);
  });
});
