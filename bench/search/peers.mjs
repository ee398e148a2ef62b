// SPDX-License-Identifier: EUPL-1.2
//
// Peer comparison for the rathaus service search. Indexes the München DLDB
// development catalog (name, keywords, description, LeiKa text: the same
// fields rathaus indexes) with MiniSearch 7.2 and FlexSearch 0.8, runs the
// development keyword queries (keywords in the index), the leave-one-out
// cross-validation (the query keyword removed from every service's keyword
// list before querying) and, if given, the one-typo queries written by
// `go run ./bench/search/cmd -typos FILE`. Prints one JSON object per
// engine configuration with S@1, S@3, S@5, MRR@10 and search latency, and
// the held-out Berlin topic evaluation (see eval.LoadBerlin).
//
//   cd bench/search && npm ci && node peers.mjs [DATA_DIR] [TYPOS.jsonl]
import fs from 'node:fs';
import path from 'node:path';
import MiniSearch from 'minisearch';
import { Document, Charset } from 'flexsearch';

const data = process.argv[2] || '../../../shared/data';
const typoFile = process.argv[3] || '';

function parseCSV(text) {
  const rows = [];
  let row = [], field = '', q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"') {
        if (text[i + 1] === '"') { field += '"'; i++; } else q = false;
      } else field += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; }
    else if (c !== '\r') field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

const stripHTML = (s) => (s || '').replace(/<[^>]*>/g, ' ')
  .replace(/&nbsp;/g, ' ').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>')
  .replace(/&quot;/g, '"').replace(/&#(\d+);/g, (_, n) => String.fromCharCode(+n));

const leikaRows = parseCSV(fs.readFileSync(path.join(data, 'leika/leika-leistungen.csv'), 'utf8'));
const head = leikaRows[0];
const col = (n) => head.indexOf(n);
const leika = new Map();
for (const r of leikaRows.slice(1)) {
  const k = r[col('leika_schluessel')];
  const t = r[col('leistungsbezeichnung')] + ' , ' + r[col('ozg_leistung')];
  leika.set(k, leika.has(k) ? leika.get(k) + ' , ' + t : t);
}

const services = JSON.parse(fs.readFileSync(path.join(data, 'chatbot/muenchen-dldb/services_de.dev.json'), 'utf8')).data;
const baseDocs = services.map((s) => ({
  id: s.id,
  name: s.name,
  kwList: (s.meta.keywords || '').split(',').map((k) => k.trim()).filter(Boolean),
  description: stripHTML(s.description),
  leika: leika.get(s.leika) || '',
}));
const docOf = (d, kwList) => ({ id: d.id, name: d.name, keywords: kwList.join(' , '), description: d.description, leika: d.leika });

const readJSONL = (f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
const queries = readJSONL(path.join(data, 'chatbot/muenchen-dldb/keyword_queries.dev.jsonl'));
const typos = typoFile ? readJSONL(typoFile) : [];

// Held-out Berlin topic evaluation (as eval.LoadBerlin): services with the
// names of their topics as keywords; each topic with members is a query.
const bServices = JSON.parse(fs.readFileSync(path.join(data, 'chatbot/berlin-dldb/services_de_2017.json'), 'utf8')).data;
const bTopics = JSON.parse(fs.readFileSync(path.join(data, 'chatbot/berlin-dldb/topic_de_2016.json'), 'utf8')).data;
const bKnown = new Set(bServices.map((s) => s.id));
const bTopicsOf = new Map();
const bQueries = [];
for (const t of bTopics) {
  const name = t.name.trim();
  const members = [];
  for (const s of t.relation.services) {
    if (bKnown.has(s.id) && !members.includes(s.id)) {
      members.push(s.id);
      bTopicsOf.set(s.id, [...(bTopicsOf.get(s.id) || []), name]);
    }
  }
  if (name && members.length) bQueries.push({ query: name, expected_service_ids: members });
}
const bDocs = bServices.map((s) => ({ id: s.id, name: s.name, kwList: bTopicsOf.get(s.id) || [], description: '', leika: '' }));

const BOOST = { name: 3, keywords: 2, description: 0.4, leika: 1 };
const FIELDS = ['name', 'keywords', 'description', 'leika'];

function metrics() { return { n: 0, s1: 0, s3: 0, s5: 0, mrr10: 0 }; }
function add(m, got, expected) {
  let r = 0;
  for (let i = 0; i < got.length && i < 10; i++) if (expected.includes(String(got[i]))) { r = i + 1; break; }
  m.n++;
  if (r === 1) m.s1++;
  if (r >= 1 && r <= 3) m.s3++;
  if (r >= 1 && r <= 5) m.s5++;
  if (r >= 1) m.mrr10 += 1 / r;
}
function done(m) { for (const k of ['s1', 's3', 's5', 'mrr10']) m[k] = m[k] / m.n; return m; }
const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(s.length * p))]; };

// Engine adapters: build(docs) → index; search(index, q) → ids best first;
// replace(index, doc) swaps one document.
const engines = {
  'minisearch-default': {
    build(docs) { const ms = new MiniSearch({ fields: FIELDS, storeFields: [] }); ms.addAll(docs); return ms; },
    search: (ms, q) => ms.search(q).slice(0, 10).map((r) => r.id),
    replace: (ms, d) => ms.replace(d),
  },
  'minisearch-fuzzy-prefix': {
    build(docs) {
      const ms = new MiniSearch({ fields: FIELDS, storeFields: [], searchOptions: { boost: BOOST, fuzzy: 0.2, prefix: true } });
      ms.addAll(docs); return ms;
    },
    search: (ms, q) => ms.search(q).slice(0, 10).map((r) => r.id),
    replace: (ms, d) => ms.replace(d),
  },
  'flexsearch-default': flex({}),
  'flexsearch-forward-latinbalance': flex({ tokenize: 'forward', encoder: Charset.LatinBalance }),
};

// FlexSearch's Document returns one ranked list per field; merge them with
// the same field boosts (boost / (rank + 1), summed).
function flex(opts) {
  return {
    build(docs) {
      const idx = new Document({ document: { id: 'id', index: FIELDS.map((f) => ({ field: f, ...opts })) } });
      for (const d of docs) idx.add(d);
      return idx;
    },
    search(idx, q) {
      const res = idx.search(q, { limit: 50 });
      const score = new Map();
      for (const r of res) r.result.forEach((id, i) => score.set(id, (score.get(id) || 0) + BOOST[r.field] / (i + 1)));
      return [...score.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10).map((e) => e[0]);
    },
    replace: (idx, d) => idx.update(d),
  };
}

const out = [];
for (const [name, e] of Object.entries(engines)) {
  const t0 = performance.now();
  const idx = e.build(baseDocs.map((d) => docOf(d, d.kwList)));
  const buildMs = performance.now() - t0;
  const dev = metrics(), typo = metrics(), unseen = metrics();
  const lat = [];
  for (let round = 0; round < 5; round++) {
    for (const q of queries) {
      const t = performance.now();
      const got = e.search(idx, q.query);
      lat.push(performance.now() - t);
      if (round === 0) add(dev, got, q.expected_service_ids);
    }
  }
  for (const q of typos) add(typo, e.search(idx, q.query), q.expected_service_ids);
  // Leave-one-out: hide the keyword, query, restore.
  const norm = (s) => s.trim().toLowerCase();
  for (const q of queries) {
    const hidden = baseDocs.filter((d) => d.kwList.some((k) => norm(k) === norm(q.query)));
    for (const d of hidden) e.replace(idx, docOf(d, d.kwList.filter((k) => norm(k) !== norm(q.query))));
    add(unseen, e.search(idx, q.query), q.expected_service_ids);
    for (const d of hidden) e.replace(idx, docOf(d, d.kwList));
  }
  const bIdx = e.build(bDocs.map((d) => docOf(d, d.kwList)));
  const berlin = metrics();
  for (const q of bQueries) {
    const hidden = bDocs.filter((d) => d.kwList.some((k) => norm(k) === norm(q.query)));
    for (const d of hidden) e.replace(bIdx, docOf(d, d.kwList.filter((k) => norm(k) !== norm(q.query))));
    add(berlin, e.search(bIdx, q.query), q.expected_service_ids);
    for (const d of hidden) e.replace(bIdx, docOf(d, d.kwList));
  }
  out.push({
    engine: name, dev: done(dev), unseen: done(unseen), typo: typos.length ? done(typo) : null,
    berlin_topics_unseen: done(berlin),
    latency_p50_us: Math.round(pct(lat, 0.5) * 1000), latency_p95_us: Math.round(pct(lat, 0.95) * 1000),
    build_muenchen_ms: Math.round(buildMs),
  });
}
console.log(JSON.stringify({ node: process.version, date: new Date().toISOString(), results: out }, null, 2));
