// Lays out the random DAGs of LayoutTiming.java with dagre, the JavaScript layout library a
// report could have bundled instead of laying out with ELK in Java (docs/benchmarks.md §7).
// Same generator, same seed, same edges. Usage: node dagre_layout.js [NODES...]
"use strict";
const dagre = require("@dagrejs/dagre");

function randomDag(n, seed) {
  let state = BigInt(seed);
  const next = () => {
    state = (state * 1103515245n + 12345n) % 2147483648n;
    return Number(state) / 2147483648;
  };
  const edges = new Set();
  for (let i = 1; i < n; i++) {
    edges.add(Math.floor(next() * i) + ">" + i);
    if (next() < 0.5) edges.add(Math.floor(next() * i) + ">" + i);
  }
  return [...edges].map(e => e.split(">").map(Number));
}

const sizes = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [500, 1000, 1500];
for (const n of sizes) {
  const edges = randomDag(n, 1);
  const g = new dagre.graphlib.Graph();
  g.setGraph({rankdir: "LR"});
  g.setDefaultEdgeLabel(() => ({}));
  for (let i = 0; i < n; i++) g.setNode("n" + i, {width: 120, height: 26});
  for (const [a, b] of edges) g.setEdge("n" + a, "n" + b);
  const t = process.hrtime.bigint();
  dagre.layout(g);
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  console.log(`dagre ${require("@dagrejs/dagre/package.json").version}: ${n} nodes, ${edges.length} edges: layout ${ms.toFixed(0)} ms`);
}
