// Runs static/js/merkle.js under Node: its self-test (the RFC 6962 vector) and, when a
// file of cases is given (written by TestMerkleJS from Go's tlog), each case's
// verification, which must come out as the case says. merkle.js is an ES module in a
// .js file with no package.json beside it, so it is loaded from a data: URL.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const src = readFileSync(fileURLToPath(new URL('../static/js/merkle.js', import.meta.url)), 'utf8');
const m = await import('data:text/javascript;base64,' + Buffer.from(src).toString('base64'));
let failed = 0;
const res = await m.selfTest();
if (!res.ok) {
  console.error('self-test failed:', res.errors.join('; '));
  failed++;
}
const root = m.toHex(await m.merkleRoot(m.VECTOR_LEAVES));
if (root !== '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328') {
  console.error('vector root', root);
  failed++;
}
let cases = [];
if (process.argv[2]) cases = JSON.parse(readFileSync(process.argv[2], 'utf8'));
for (const c of cases) {
  const v = await m.verifyInclusion(c.leaf_index, c.tree_size, c.leaf, c.proof, c.root);
  if (v.ok !== c.ok) {
    console.error(`case ${c.name}: ok=${v.ok} (${v.error}), want ${c.ok}`);
    failed++;
  }
  if (c.leaf_hash && v.leafHash !== m.toHex(m.fromBase64(c.leaf_hash))) {
    console.error(`case ${c.name}: leaf hash ${v.leafHash}`);
    failed++;
  }
}
if (failed) process.exit(1);
console.log(`ok: vector root ${root}, ${res.checked} self-test proofs, ${cases.length} cases`);
