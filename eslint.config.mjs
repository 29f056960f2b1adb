// ESLint for the pages' scripts (static/js: native ES modules, no build step). `make lint`
// installs the pinned ESLint from package-lock.json into var/eslint (npm ci) and runs it here.
// The rules catch what a split into modules can break unseen (a name used but not imported, an
// import left unused, a local name hiding a module's own) on paths the browser tests may not
// reach; formatting is not checked.

import { readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";

// No import cycle between our modules: production serves each file under a name with its
// content's hash, and for the imports to name those files (ManifestStaticFilesStorage with
// support_js_module_import_aggregation) no two files may import each other, even through others.
const RELATIVE_IMPORT = /^\s*(?:import|export)\b[^"';]*?["'](\.{1,2}\/[^"']+)["']/gm;
function importsOf(file) {
  let source;
  try { source = readFileSync(file, "utf8"); } catch (error) { return []; }
  return [...source.matchAll(RELATIVE_IMPORT)].map((match) => resolve(dirname(file), match[1]));
}
const noImportCycle = {
  meta: { type: "problem", messages: { cycle: "Import cycle: {{chain}}." } },
  create(context) {
    const start = context.filename;
    return {
      ImportDeclaration(node) {
        if (!node.source.value.startsWith(".")) return;
        const first = resolve(dirname(start), node.source.value);
        const seen = new Set();
        const stack = [[first, [start, first]]];
        while (stack.length) {
          const [file, chain] = stack.pop();
          if (file === start) {
            const names = chain.map((step) => relative(dirname(start), step) || ".");
            context.report({ node, messageId: "cycle", data: { chain: names.join(" → ") } });
            return;
          }
          if (seen.has(file)) continue;
          seen.add(file);
          for (const next of importsOf(file)) stack.push([next, [...chain, next]]);
        }
      },
    };
  },
};

// What the pages get from the browser, and from the scripts loaded before the modules:
// Django's JavaScript catalogue (gettext, interpolate, ngettext) and the vendored Leaflet (L)
// and Chart.js (window.Chart).
const browser = [
  "AbortController", "Audio", "CustomEvent", "Event", "FormData", "IntersectionObserver", "Intl",
  "MutationObserver", "Notification", "Option",
  "URLSearchParams", "WebSocket", "caches", "clearInterval", "clearTimeout", "console", "crypto",
  "document", "fetch", "localStorage", "location", "navigator", "self", "sessionStorage",
  "setInterval", "setTimeout", "window",
];
const page = ["gettext", "interpolate", "ngettext", "L"];

export default [
  {
    files: ["static/js/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: Object.fromEntries([...browser, ...page].map((name) => [name, "readonly"])),
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    plugins: { dispatch112: { rules: { "no-import-cycle": noImportCycle } } },
    rules: {
      "dispatch112/no-import-cycle": "error",
      "no-undef": "error",
      "no-unused-vars": ["error", { args: "none", caughtErrors: "none" }],
      "no-import-assign": "error",
      "no-const-assign": "error",
      "no-dupe-keys": "error",
      "no-duplicate-imports": "error",
      "no-redeclare": "error",
      "no-self-assign": "error",
      "no-shadow": "error",
      "no-unreachable": "error",
      "no-use-before-define": ["error", { functions: false, classes: true, variables: false }],
      "no-var": "error",
      "prefer-const": "error",
      eqeqeq: "error",
    },
  },
];
