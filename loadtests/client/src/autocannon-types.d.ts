// The part of autocannon's API the load client uses (autocannon ships no types).
declare module "autocannon" {
  import type { EventEmitter } from "node:events";

  namespace autocannon {
    interface Request {
      method?: string;
      path: string;
      headers?: Record<string, string>;
      /** Called for each reply to this request, before the client's `response` event. */
      onResponse?: (status: number, body: string, context: Record<string, unknown>, headers: Record<string, string | string[]>) => void;
    }
    /** One connection; emits request, response(status, bytes, ms), connError(err), timeout, reset. */
    type Client = EventEmitter;
    interface Options {
      url: string;
      connections?: number;
      pipelining?: number;
      /** Seconds. */
      duration?: number;
      /** Seconds without a reply before a connection is redone. */
      timeout?: number;
      overallRate?: number;
      ignoreCoordinatedOmission?: boolean;
      requests?: Request[];
      setupClient?: (client: Client) => void;
      /** ms between the samples that also check for the end. */
      sampleInt?: number;
      excludeErrorStats?: boolean;
    }
    interface Result {
      errors: number;
      timeouts: number;
      non2xx: number;
      mismatches: number;
      resets: number;
      [k: string]: unknown;
    }
    interface Instance extends EventEmitter {
      stop(): void;
    }
  }
  function autocannon(opts: autocannon.Options, cb: (err: Error | null, result: autocannon.Result) => void): autocannon.Instance;
  export = autocannon;
}
