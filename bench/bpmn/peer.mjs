// SPDX-License-Identifier: EUPL-1.2
// Runs the approval process with npm bpmn-engine (installed by run.sh into a temp dir) and prints
// instances per second as JSON. Usage: node peer.mjs FILE.bpmn N MODE   (MODE: parse | preparsed)
import fs from 'node:fs';
import { EventEmitter } from 'node:events';
import { Engine } from 'bpmn-engine';

const [file, nArg, mode = 'preparsed'] = process.argv.slice(2);
const n = Number(nArg || 200);
const source = fs.readFileSync(file, 'utf8');
const services = { notify(ctx, next) { next(null, true); } };

async function runOne(preparsed) {
  const listener = new EventEmitter();
  let reviews = 0;
  listener.on('wait', (api) => {
    if (api.type !== 'bpmn:UserTask') return;
    reviews++;
    api.environment.variables.approved = reviews >= 2;
    api.signal();
  });
  const opts = { name: 'approval', services, variables: {} };
  if (preparsed) opts.moddleContext = preparsed; else opts.source = source;
  const engine = new Engine(opts);
  const done = new Promise((resolve, reject) => {
    engine.once('end', resolve);
    engine.once('error', reject);
  });
  await engine.execute({ listener });
  await done;
  if (reviews !== 2) throw new Error(`expected 2 reviews, got ${reviews}`);
}

let preparsed;
if (mode === 'preparsed') {
  // Parse once, like rathaus compiles once per definition.
  const { default: BpmnModdle } = await import('bpmn-moddle');
  preparsed = await new BpmnModdle().fromXML(source);
}
for (let i = 0; i < 20; i++) await runOne(preparsed); // warm-up
const t0 = process.hrtime.bigint();
for (let i = 0; i < n; i++) await runOne(preparsed);
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(JSON.stringify({ engine: 'bpmn-engine', mode: preparsed ? 'preparsed' : 'parse', instances: n, seconds: secs, per_sec: n / secs }));
