// SPDX-License-Identifier: EUPL-1.2
// Times npm xdatenfelder-xml (v2 parser) on the given files, read once and
// parsed from strings; same output lines as main.go. Usage:
//   node npm-bench.js MODULE_DIR RUNS ITER FILE...
const [modDir, runs, iter, ...files] = process.argv.slice(2);
const { v2 } = require(modDir + "/dist/index.js");
const fs = require("fs");
const path = require("path");
const inputs = [];
for (const f of files) {
  const text = fs.readFileSync(f, "utf8");
  try {
    const c = v2.SchemaMessage.fromString(text).message.schemaContainer;
    console.log(`counts ${path.basename(f)} ${c.datenfelder.count()} ${c.datenfeldgruppen.count()}`);
    inputs.push(text);
  } catch (e) {
    console.log(`counts ${path.basename(f)} ERROR ${e.message}`);
  }
}
for (const t of inputs) v2.SchemaMessage.fromString(t); // warm-up pass
for (let r = 0; r < +runs; r++) {
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let n = 0;
  for (let i = 0; i < +iter; i++) {
    for (const t of inputs) {
      v2.SchemaMessage.fromString(t);
      n++;
    }
  }
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  const c = process.cpuUsage(cpu0);
  const cs = (c.user + c.system) / 1e6;
  console.log(`npm files/s ${(n / s).toFixed(1)} cpu ${(n / cs).toFixed(1)}`);
}
