// The node:fs module plus globSync for "**/name"-style patterns relative to
// options.cwd, which is how the conformance suite uses it.
import fs from "node:fs";
import path from "node:path";

export * from "node:fs";
export default fs;

function toRegExp(pattern) {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*" && pattern[i + 1] === "*") {
      i++;
      if (pattern[i + 1] === "/") {
        i++;
        re += "(?:.*/)?";
      } else {
        re += ".*";
      }
    } else if (c === "*") {
      re += "[^/]*";
    } else if (c === "?") {
      re += "[^/]";
    } else {
      re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    }
  }
  return new RegExp("^" + re + "$");
}

function polyfill(patterns, options) {
  const cwd = (options && options.cwd) || process.cwd();
  const res = [].concat(patterns).map(toRegExp);
  const out = [];
  const walk = (rel) => {
    let entries;
    try {
      entries = fs.readdirSync(path.join(cwd, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = rel ? rel + "/" + e.name : e.name;
      if (res.some((r) => r.test(p))) out.push(p);
      if (e.isDirectory()) walk(p);
    }
  };
  walk("");
  return out;
}

export const globSync = typeof fs.globSync === "function" ? fs.globSync : polyfill;
