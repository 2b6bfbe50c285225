import { describe, expect, it } from "vitest";
import {
  compareToModel,
  empiricalService,
  erlangC,
  md1MeanWait,
  mdc,
  mdcMeanWaitCosmetatos,
  mmc,
  predict,
  simulate,
  type SimulationInput,
} from "../../../src/measure/queueing.js";

/** Relative closeness: |a - b| ≤ tol·|b|. */
function near(actual: number, expected: number, tol: number): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected} (±${tol * 100}%)`).toBeLessThanOrEqual(tol * Math.abs(expected));
}

const sim = (o: Partial<SimulationInput> & Pick<SimulationInput, "rate" | "serviceMs">) =>
  simulate({ servers: 1, discipline: "shared", arrivals: "poisson", seed: 42, requests: 200_000, ...o });

/** Erlang's M/D/1 series (D = 1): P(W ≤ t) = (1-ρ) Σ_{k ≤ t} e^{λ(t-k)} (-λ(t-k))^k / k!. Fine at low load and small t. */
function erlangMd1Cdf(rho: number, t: number): number {
  let sum = 0;
  let fact = 1;
  for (let k = 0; k <= Math.floor(t); k++) {
    if (k > 0) fact *= k;
    const x = rho * (t - k);
    sum += (Math.exp(x) * (-x) ** k) / fact;
  }
  return (1 - rho) * sum;
}

describe("M/M/1 and M/M/c, exact", () => {
  for (const rho of [0.5, 0.8, 0.9]) {
    it(`M/M/1 at ρ = ${rho}: mean wait ρ/(μ-λ), P(W > t) = ρ·e^{-(μ-λ)t}`, () => {
      const q = mmc(rho, 1, 1);
      expect(q.probWait).toBeCloseTo(rho, 12);
      expect(q.meanWait).toBeCloseTo(rho / (1 - rho), 12);
      for (const t of [0.5, 2, 10]) expect(q.waitTail(t)).toBeCloseTo(rho * Math.exp(-(1 - rho) * t), 12);
      // Response time is exponential with rate μ - λ in M/M/1.
      for (const t of [0.1, 1, 5]) expect(q.responseTail(t)).toBeCloseTo(Math.exp(-(1 - rho) * t), 12);
      expect(q.waitQuantile(0.99)).toBeCloseTo(Math.log(rho / 0.01) / (1 - rho), 10);
      expect(q.waitQuantile(1 - rho)).toBe(0); // the share that does not wait
      expect(q.responseQuantile(0.99)).toBeCloseTo(Math.log(100) / (1 - rho), 8);
    });
  }

  it("Erlang C: c = 2, ρ = 0.8 waits with probability 32/45 = 0.7111…", () => {
    expect(erlangC(2, 1.6)).toBeCloseTo(32 / 45, 12);
    expect(erlangC(1, 0.7)).toBeCloseTo(0.7, 12);
    // A textbook row: 10 servers at 8 erlangs, C = 0.409 (Kleinrock; Erlang C tables).
    expect(erlangC(10, 8)).toBeCloseTo(0.4092, 4);
    const q = mmc(1.6, 1, 2);
    expect(q.meanWait).toBeCloseTo(32 / 45 / 0.4, 12);
    expect(() => erlangC(2, 2)).toThrow(/unstable/);
  });
});

describe("the simulator against M/M/1 and M/M/2", () => {
  // Tolerances grow with the load: near saturation successive waits are strongly correlated, so a
  // run of n requests carries far less than n independent values. The seed is fixed: these are
  // the errors of this sample, stated with room.
  for (const [rho, requests, tol] of [
    [0.5, 200_000, 0.03],
    [0.8, 400_000, 0.05],
    [0.9, 800_000, 0.08],
  ] as const) {
    it(`M/M/1 at ρ = ${rho}: mean wait and tail within ${tol * 100}%`, () => {
      const s = sim({ rate: rho * 1000, serviceMs: { exponentialMeanMs: 1 }, requests });
      const exact = mmc(rho, 1, 1);
      near(s.wait.mean, exact.meanWait, tol);
      near(s.probWait, rho, 0.02);
      near(s.response.p99, exact.responseQuantile(0.99), tol);
      near(s.wait.p90, exact.waitQuantile(0.9), tol);
      near(s.utilisation, rho, 0.02);
    });
  }

  it("M/M/2 at ρ = 0.8: Erlang C and the mean wait within 5%", () => {
    const s = sim({ rate: 1600, serviceMs: { exponentialMeanMs: 1 }, servers: 2, requests: 400_000 });
    const exact = mmc(1.6, 1, 2);
    near(s.probWait, 32 / 45, 0.02);
    near(s.wait.mean, exact.meanWait, 0.05);
    near(s.response.p99, exact.responseQuantile(0.99), 0.05);
  });
});

describe("M/D/1 and M/D/c", () => {
  it("M/D/1 mean wait: Pollaczek–Khinchine ρS/(2(1-ρ)), and the exact distribution integrates to it", () => {
    expect(md1MeanWait(0.8, 1)).toBeCloseTo(2, 12);
    expect(md1MeanWait(0.05, 10)).toBeCloseTo((0.5 * 10) / (2 * 0.5), 12); // any unit: 50 req/s of 10 ms, in ms
    for (const rho of [0.3, 0.8, 0.95]) {
      const w = mdc(rho, 1, 1);
      near(w.meanWait, (rho * 1) / (2 * (1 - rho)), 1e-9);
      expect(w.probWait).toBeCloseTo(rho, 10); // P(W = 0) = 1 - ρ
    }
  });

  it("M/D/1 distribution and percentiles: Erlang's series (ρ = 0.5, where it is stable)", () => {
    const w = mdc(0.5, 1, 1);
    for (const t of [0, 0.25, 1, 1.5, 2.75, 4]) expect(w.cdf(t)).toBeCloseTo(erlangMd1Cdf(0.5, t), 10);
    // Percentiles: solve Erlang's series for the 0.9 and 0.99 points by bisection, independently.
    for (const q of [0.9, 0.99]) {
      let [lo, hi] = [0, 20];
      for (let i = 0; i < 80; i++) [lo, hi] = erlangMd1Cdf(0.5, (lo + hi) / 2) >= q ? [lo, (lo + hi) / 2] : [(lo + hi) / 2, hi];
      expect(w.quantile(q)).toBeCloseTo(hi, 8);
    }
    expect(w.quantile(0.5)).toBe(0); // half the arrivals find the server free
  });

  it("M/D/1 against the simulator, ρ = 0.8: mean and percentiles within 4%", () => {
    const s = sim({ rate: 800, serviceMs: 1, requests: 400_000 });
    const w = mdc(0.8, 1, 1);
    near(s.wait.mean, 2, 0.04);
    near(s.probWait, 0.8, 0.01);
    near(s.wait.p90, w.quantile(0.9), 0.04);
    near(s.wait.p99, w.quantile(0.99), 0.04);
    near(s.response.p99, w.quantile(0.99) + 1, 0.04);
  });

  it("M/D/c: exact mean beside Cosmetatos' approximation (within 1%) and the simulator", () => {
    for (const c of [2, 4, 8]) {
      const w = mdc(0.8 * c, 1, c);
      near(w.meanWait, mdcMeanWaitCosmetatos(0.8 * c, 1, c), 0.01);
      const s = sim({ rate: 800 * c, serviceMs: 1, servers: c, requests: 200_000 });
      near(s.wait.mean, w.meanWait, 0.05);
      near(s.response.p99, w.quantile(0.99) + 1, 0.05);
      near(s.probWait, w.probWait, 0.02);
    }
    // Cosmetatos reduces to Pollaczek–Khinchine for one server.
    expect(mdcMeanWaitCosmetatos(0.8, 1, 1)).toBeCloseTo(2, 12);
  });

  it("M/D/2 at ρ = 0.8: fewer wait than in M/M/2, and for about half as long", () => {
    const w = mdc(1.6, 1, 2);
    expect(w.probWait).toBeLessThan(32 / 45);
    near(w.meanWait, mmc(1.6, 1, 2).meanWait / 2, 0.02);
  });

  it("stays exact close to saturation (no alternating series to cancel)", () => {
    const w = mdc(0.99, 1, 1);
    near(w.meanWait, 49.5, 1e-8);
    expect(w.quantile(0.999)).toBeGreaterThan(w.quantile(0.99));
    expect(w.cdf(w.quantile(0.99))).toBeCloseTo(0.99, 9);
  });
});

describe("one shared queue against round-robin queues", () => {
  const at = (rate: number, serviceMs: SimulationInput["serviceMs"], discipline: SimulationInput["discipline"], requests = 200_000) =>
    sim({ rate, serviceMs, servers: 2, discipline, requests });

  it("constant service: every layout gives every request the same wait (M/D/2 = 2×E2/D/1)", () => {
    const shared = at(1600, 1, "shared", 50_000);
    expect(at(1600, 1, "round-robin", 50_000)).toEqual(shared);
    expect(at(1600, 1, "least-conn", 50_000)).toEqual(shared);
  });

  it("variable service at ρ = 0.8: the shared queue's p99 is lower, least-conn in between", () => {
    const service = { exponentialMeanMs: 1 };
    const shared = at(1600, service, "shared");
    const rr = at(1600, service, "round-robin");
    const lc = at(1600, service, "least-conn");
    expect(rr.response.p99).toBeGreaterThan(1.3 * shared.response.p99);
    expect(lc.response.p99).toBeGreaterThan(shared.response.p99);
    expect(lc.response.p99).toBeLessThan(rr.response.p99);
    // Round-robin queues are E2/M/1: GI/M/1 gives T ~ Exp(μ(1-σ)), σ = (λ/(λ + μ(1-σ)))².
    let sigma = 0.5;
    for (let i = 0; i < 500; i++) sigma = (1.6 / (1.6 + (1 - sigma))) ** 2;
    // (A p99 from 200 000 correlated requests is good to a few per cent: 8% allowed, 4% on the mean.)
    near(rr.response.mean, 1 / (1 - sigma), 0.04);
    near(rr.response.p99, Math.log(100) / (1 - sigma), 0.08);
  });

  it("…and the two come together at low load", () => {
    const service = { exponentialMeanMs: 1 };
    const shared = at(200, service, "shared");
    const rr = at(200, service, "round-robin");
    near(rr.response.p99, shared.response.p99, 0.05);
  });

  it("a measured spread of service times separates them too, less than exponential", () => {
    const service = empiricalService({ min: 0.9, p50: 1, p90: 1.2, p99: 1.6, max: 2 });
    const shared = at(1600, service, "shared");
    const rr = at(1600, service, "round-robin");
    expect(rr.response.p99).toBeGreaterThan(shared.response.p99);
    expect(rr.response.p99).toBeLessThan(1.3 * shared.response.p99);
  });
});

describe("simulation: bounded and deterministic", () => {
  it("the same seed gives the same figures; another seed does not", () => {
    const o = { rate: 1600, serviceMs: { exponentialMeanMs: 1 }, servers: 2, requests: 20_000 } as const;
    expect(sim(o)).toEqual(sim(o));
    expect(sim({ ...o, seed: 43 })).not.toEqual(sim(o));
  });

  it("evenly spaced arrivals below capacity never wait", () => {
    const s = sim({ rate: 1900, serviceMs: 1, servers: 2, arrivals: "uniform", requests: 10_000 });
    expect(s.wait.p999).toBe(0);
    expect(s.response.p50).toBe(1);
  });

  it("refuses unbounded work and bad input", () => {
    expect(() => sim({ rate: 100, serviceMs: 1, requests: 10_000_000 })).toThrow(/requests/);
    expect(() => sim({ rate: 100, serviceMs: -1 })).toThrow(/service/);
    expect(() => sim({ rate: 100, serviceMs: 1, discipline: "random" as never })).toThrow(/discipline/);
  });

  it("empiricalService draws the quantile function between the points", () => {
    const { samplesMs } = empiricalService({ min: 1, p50: 2, max: 4 }, 4);
    expect(samplesMs).toEqual([1.25, 1.75, 2.5, 3.5]);
  });
});

describe("predict and compareToModel", () => {
  it("exact for M/D/c, with response = wait + service, in ms at a rate in req/s", () => {
    const p = predict({ rate: 800, serviceMs: 2, servers: 2, discipline: "shared", arrivals: "poisson" });
    expect(p.stable && p.method).toBe("analytic");
    if (!p.stable) return;
    expect(p.model).toBe("M/D/2");
    expect(p.offeredLoad).toBeCloseTo(0.8, 12);
    const w = mdc(0.8, 2, 2);
    expect(p.wait.p99).toBeCloseTo(w.quantile(0.99), 12);
    expect(p.response.p99).toBeCloseTo(w.quantile(0.99) + 2, 12);
    expect(p.response.mean).toBeCloseTo(w.meanWait + 2, 12);
    // Round-robin with constant service: the same figures, under its own name.
    const rr = predict({ rate: 800, serviceMs: 2, servers: 2, discipline: "round-robin", arrivals: "poisson" });
    expect(rr.stable && rr.model).toBe("2×E2/D/1 round-robin");
    expect(rr.stable && rr.response.p99).toBe(p.response.p99);
  });

  it("simulates where no formula is exact, and has no steady state at or over capacity", () => {
    const p = predict({ rate: 800, serviceMs: 2, servers: 2, discipline: "least-conn", arrivals: "poisson", requests: 20_000 });
    expect(p.stable && p.method).toBe("simulation");
    expect(p.stable && p.model).toBe("M/D/2 least-conn");
    const over = predict({ rate: 1000, serviceMs: 2, servers: 2, discipline: "shared", arrivals: "poisson" });
    expect(over).toEqual({ stable: false, model: "M/D/2", offeredLoad: 1 });
    expect(compareToModel({ p50: 3, p99: 9 }, over)).toEqual({
      p50Ratio: null,
      p99Ratio: null,
      text: "offered load 1.00 of capacity: the M/D/2 model has no steady state",
    });
  });

  it("says by how much the measurement departs from the model", () => {
    const p = predict({ rate: 800, serviceMs: 2, servers: 2, discipline: "shared", arrivals: "poisson" });
    if (!p.stable) throw new Error("stable");
    const c = compareToModel({ p50: p.response.p50 * 1.1, p99: p.response.p99 * 1.8 }, p);
    expect(c.p99Ratio).toBeCloseTo(1.8, 12);
    expect(c.p50Ratio).toBeCloseTo(1.1, 12);
    expect(c.text).toMatch(/^measured p99 1\.8× the M\/D\/2 prediction \(.* ms vs .* ms\), p50 1\.1× /);
  });
});
