// Resolve hook: "fs" imported by the conformance suite resolves to fs.mjs.
const shim = new URL("./fs.mjs", import.meta.url).href;

export async function resolve(specifier, context, next) {
  if ((specifier === "fs" || specifier === "node:fs") && context.parentURL &&
      context.parentURL.includes("/@modelcontextprotocol/conformance/")) {
    return { url: shim, shortCircuit: true };
  }
  return next(specifier, context);
}
