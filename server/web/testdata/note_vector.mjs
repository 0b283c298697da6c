// Runs verifyNote from static/js/merkle.js under Node on signed notes written by Go's
// sumdb/note (TestVerifyNoteJS): each good note verifies under its key, each altered
// note under none.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const src = readFileSync(fileURLToPath(new URL('../static/js/merkle.js', import.meta.url)), 'utf8');
const m = await import('data:text/javascript;base64,' + Buffer.from(src).toString('base64'));
let failed = 0;
for (const c of JSON.parse(readFileSync(process.argv[2], 'utf8'))) {
  const got = await m.verifyNote(c.note, [c.vkey]);
  if (got.length !== c.want) {
    console.error(`${c.name}: ${got.length} signatures verified, want ${c.want} (key ${c.vkey})`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
