// Runs the npm `solc` compiler (solcjs) for the shim beside this file.
// --version              prints "0.8.x+commit.<hash>.Linux.g++" (the form native solc prints)
// --standard-json OUT    reads standard JSON on stdin, writes the compiler's JSON output to OUT
// Imports are read from the file system, relative to --base-path / --include-path / --allow-paths
// arguments when forge passes them, else relative to the current directory.
"use strict";
const fs = require("fs");
const path = require("path");
const solc = require(require.resolve("solc", { paths: [process.cwd(), path.join(__dirname, "..", "..")] }));

const args = process.argv.slice(2);
if (args[0] === "--version") {
  process.stdout.write(solc.version().replace(/\.Emscripten\.clang$/, ".Linux.g++") + "\n");
  process.exit(0);
}
const outFile = args[1];
const roots = [process.cwd()];
for (let i = 2; i < args.length; i++) {
  if (["--base-path", "--include-path", "--allow-paths"].includes(args[i]) && args[i + 1]) {
    for (const p of args[i + 1].split(",")) roots.push(path.resolve(p));
    i++;
  }
}
function findImports(importPath) {
  for (const root of roots) {
    const candidate = path.resolve(root, importPath);
    if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, "utf8") };
  }
  if (path.isAbsolute(importPath) && fs.existsSync(importPath)) {
    return { contents: fs.readFileSync(importPath, "utf8") };
  }
  return { error: "File not found: " + importPath };
}
const input = fs.readFileSync(0, "utf8");
fs.writeFileSync(outFile, solc.compile(input, { import: findImports }));
