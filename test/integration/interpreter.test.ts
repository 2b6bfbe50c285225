import { readFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import YAML from "yaml";
import { describe, expect, it } from "vitest";
import { repoRoot, servicesDir } from "../../orchestrator/src/models/catalog.js";
import { httpGet, tcpLines } from "../support/clients.js";
import { modelsUnderTest } from "../support/models.js";
import { expectUnharmed, none, useModel } from "../support/suite.js";

// The interpreter under each model that does not run on Debian 13's python3 (the free-threaded
// CPython, the same source with the GIL, Debian's python3.14): what its manifest declares
// ("interpreter": { image, version, gil }) is what answers. Every reply of such a model says
// `X-Python: <version> gil=<0|1>`, read when the reply is made, and a free-threaded model must
// refuse to start when the GIL is on (PYTHON_GIL=1 stands in for an extension that re-enables it).
// On every model of the catalog (MODELS=a,b narrows); the static checks always run.

interface Interpreter {
  image: string;
  version: string;
  gil: boolean;
}

const X_PYTHON = /^(\d+\.\d+\.\d+\S*) gil=([01])$/;

async function declared(model: string): Promise<Interpreter | undefined> {
  const raw = JSON.parse(await readFile(path.join(servicesDir, model, "model.json"), "utf8")) as { interpreter?: Interpreter };
  return raw.interpreter;
}

/** The PYTHON build arg of each compose service that has one (services/python/model.Dockerfile). */
async function pythonArgs(): Promise<Record<string, string | undefined>> {
  const compose = YAML.parse(await readFile(path.join(repoRoot, "docker-compose.yml"), "utf8"), { merge: true });
  const services = compose.services as Record<string, { build?: { args?: Record<string, string> } }>;
  return Object.fromEntries(Object.entries(services).map(([name, s]) => [name, s.build?.args?.PYTHON]));
}

function expectMatches(header: unknown, spec: Interpreter | undefined, what: string) {
  if (!spec) {
    expect(header, `${what}: a model that declares no interpreter sends no X-Python`).toBeUndefined();
    return;
  }
  const m = X_PYTHON.exec(String(header ?? ""));
  expect(m, `${what}: X-Python "${header}"`).not.toBeNull();
  expect(m![1] === spec.version || m![1]!.startsWith(`${spec.version}.`), `${what}: Python ${m![1]}, declared ${spec.version}`).toBe(true);
  expect(m![2], `${what}: gil=${m![2]}, declared gil ${spec.gil}`).toBe(spec.gil ? "1" : "0");
}

const models = await modelsUnderTest();
const specs = new Map(await Promise.all(models.map(async (m) => [m.name, await declared(m.name)] as const)));
const onInterpreters = models.filter((m) => specs.get(m.name) !== undefined);

describe("interpreter declarations", () => {
  it("a model is built on an interpreter image exactly when its manifest declares that interpreter", async () => {
    const args = await pythonArgs();
    for (const m of models) {
      const spec = specs.get(m.name);
      const arg = args[m.name];
      if (spec) expect(`fiblab/${arg}`, `${m.name}: compose's PYTHON build arg`).toBe(spec.image);
      else expect(arg, `${m.name}: a PYTHON build arg without an interpreter in its manifest`).toBeUndefined();
      if (spec) expect(typeof spec.gil === "boolean" && /^\d+\.\d+$/.test(spec.version), `${m.name}: ${JSON.stringify(spec)}`).toBe(true);
    }
  });
});

describe.each(onInterpreters.map((m) => [m.name, m] as const))("%s interpreter", (_name, manifest) => {
  const spec = specs.get(manifest.name)!;
  const t = useModel(manifest);

  it(`the image's interpreter is the declared one (${spec.image}: Python ${spec.version}, gil ${spec.gil ? "on" : "off"})`, async () => {
    const r = await execa(
      "docker",
      [
        "run",
        "--rm",
        "--entrypoint",
        "python3",
        `fiblab/${manifest.name}:latest`,
        "-c",
        "import sys, platform; print(platform.python_version(), int(sys._is_gil_enabled()))",
      ],
      {
        reject: false,
        timeout: 30_000,
      },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const [version, gil] = r.stdout.trim().split(" ");
    expect(version === spec.version || version!.startsWith(`${spec.version}.`), `python3 is ${version}`).toBe(true);
    expect(gil).toBe(spec.gil ? "1" : "0");
  });

  it("every reply says X-Python: <version> gil=<0|1>, as the manifest declares, through the front", async () => {
    for (const p of ["/healthz", "/fib/20", "/nope", "/fib/abc"]) {
      const r = await httpGet(t.lab.httpPort, p);
      expectMatches(r.headers["x-python"], spec, `GET ${p}`);
    }
    // And after the threads have computed in parallel (no extension re-enabled the GIL on the way).
    await Promise.all(Array.from({ length: 4 }, () => httpGet(t.lab.httpPort, "/fib/24")));
    if (t.traits.tcp) expect((await tcpLines(t.lab.tcpPort, "10\n", 1)).lines[0]).toBe("55");
    expectMatches((await httpGet(t.lab.httpPort, "/fib/10")).headers["x-python"], spec, "after parallel fib");
    await expectUnharmed(t, { processes: true });
  });

  (spec.gil ? none : it)("refuses to start when the GIL is on (PYTHON_GIL=1, as an extension that re-enables it would)", async () => {
    const r = await execa(
      "docker",
      [
        "run",
        "--rm",
        "--read-only",
        "--tmpfs",
        "/tmp",
        "--user",
        "10001:10001",
        "--cap-drop",
        "ALL",
        "-e",
        "PYTHON_GIL=1",
        "--stop-timeout",
        "2",
        `fiblab/${manifest.name}:latest`,
      ],
      { reject: false, timeout: 30_000, all: true },
    );
    expect(r.timedOut, "the model must exit, not serve").toBe(false);
    expect(r.exitCode, r.all).not.toBe(0);
    expect(r.all).toMatch(/refusing to start: .*the GIL is on/);
  });
});
