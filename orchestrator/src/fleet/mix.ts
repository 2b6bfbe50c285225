import type { RequestMix, Tool } from "../scenario/schema.js";

/** The MIX variable: {n, weight} for TCP, {path, weight} for HTTP. */
export function mixEnv(request: RequestMix, tool: Tool): string {
  if (tool === "tcp") {
    return JSON.stringify(
      request.map((r) => {
        if (r.kind !== "fib") throw new Error(`the tcp tool cannot send "${r.text}"`);
        return { n: r.arg, weight: r.weight };
      }),
    );
  }
  return JSON.stringify(request.map((r) => ({ path: `/${r.kind}/${r.arg}`, weight: r.weight })));
}
