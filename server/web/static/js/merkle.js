// RFC 6962 / RFC 9162 Merkle tree hashing and inclusion-proof verification, so that an
// auditor's browser checks the ledger itself instead of trusting the server's word.
// This module imports nothing: the Go tests run it under Node on its own.

// bytes accepts a Uint8Array, ArrayBuffer, array of byte values, 64 hex digits (a hash)
// or base64 (as the API sends).
export function bytes(v) {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (Array.isArray(v)) return Uint8Array.from(v);
  if (typeof v === 'string') return /^[0-9a-f]{64}$/i.test(v) ? fromHex(v) : fromBase64(v);
  throw new TypeError('merkle: want bytes, hex or base64');
}

export function fromBase64(s) {
  return Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
}

export function fromHex(s) {
  if (!/^([0-9a-f]{2})*$/i.test(s)) throw new Error('merkle: bad hex');
  return Uint8Array.from(s.match(/../g) || [], (x) => parseInt(x, 16));
}

export function toHex(b) {
  return Array.from(bytes(b), (x) => x.toString(16).padStart(2, '0')).join('');
}

const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

// sha256 uses WebCrypto, which browsers provide only in secure contexts: HTTPS, or
// localhost (lifang serve's default address).
async function sha256(...parts) {
  if (!globalThis.crypto?.subtle) throw new Error('WebCrypto is unavailable: open the dashboard over HTTPS or on localhost');
  const buf = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((o, p) => (buf.set(p, o), o + p.length), 0);
  return new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
}

// leafHash is SHA-256(0x00 || leaf); a string is taken as text (UTF-8).
export function leafHash(leaf) {
  return sha256(Uint8Array.of(0), typeof leaf === 'string' ? new TextEncoder().encode(leaf) : bytes(leaf));
}

// nodeHash is SHA-256(0x01 || left || right).
export function nodeHash(left, right) {
  return sha256(Uint8Array.of(1), bytes(left), bytes(right));
}

// rootFromInclusionProof walks an inclusion proof (RFC 9162 §2.1.3.2) from the hash of
// leaf index in a tree of size leaves and returns the root it implies. Sizes stay exact
// up to 2^53: halving uses arithmetic, not 32-bit bit operators.
export async function rootFromInclusionProof(index, size, leafHashValue, proof) {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0) throw new Error('invalid leaf index or tree size');
  if (index >= size) throw new Error(`leaf index ${index} is not below tree size ${size}`);
  let fn = index;
  let sn = size - 1;
  let r = bytes(leafHashValue);
  const half = () => ((fn = Math.floor(fn / 2)), (sn = Math.floor(sn / 2)));
  for (const raw of proof) {
    const p = bytes(raw);
    if (p.length !== 32 || r.length !== 32) throw new Error('a hash is not 32 bytes');
    if (sn === 0) throw new Error('proof is too long');
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) half();
    } else {
      r = await nodeHash(r, p);
    }
    half();
  }
  if (sn !== 0) throw new Error('proof is too short');
  return r;
}

// verifyInclusion checks that leaf (bytes, or base64 as the API sends) is entry index of
// the tree of the given size and root. It never throws: {ok, leafHash, computedRoot,
// error}, hashes in hex.
export async function verifyInclusion(index, size, leaf, proof, root) {
  const out = { ok: false, leafHash: '', computedRoot: '', error: '' };
  try {
    const lh = await leafHash(typeof leaf === 'string' ? fromBase64(leaf) : bytes(leaf));
    out.leafHash = toHex(lh);
    const r = await rootFromInclusionProof(Number(index), Number(size), lh, proof || []);
    out.computedRoot = toHex(r);
    out.ok = equal(r, bytes(root));
    if (!out.ok) out.error = 'computed root does not match';
  } catch (e) {
    out.error = e instanceof Error ? e.message : String(e);
  }
  return out;
}

// Test helpers: MTH and PATH of RFC 6962 §2.1, over leaves given as byte arrays or as
// strings of one char per byte.
const raw = (l) => (typeof l === 'string' ? Uint8Array.from(l, (c) => c.charCodeAt(0) & 0xff) : bytes(l));
const split = (n) => 2 ** Math.ceil(Math.log2(n) - 1);

export async function merkleRoot(leaves) {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return leafHash(raw(leaves[0]));
  const k = split(leaves.length);
  return nodeHash(await merkleRoot(leaves.slice(0, k)), await merkleRoot(leaves.slice(k)));
}

export async function inclusionProof(leaves, m) {
  if (leaves.length <= 1) return [];
  const k = split(leaves.length);
  return m < k ? [...(await inclusionProof(leaves.slice(0, k), m)), await merkleRoot(leaves.slice(k))]
    : [...(await inclusionProof(leaves.slice(k), m - k)), await merkleRoot(leaves.slice(0, k))];
}

// RFC 6962's test vector: eight leaves and the root of their tree.
export const VECTOR_LEAVES = ['', '\x00', '\x10', '\x20\x21', '\x30\x31', '\x40\x41\x42\x43', '\x50\x51\x52\x53\x54\x55\x56\x57',
  '\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f'];
export const VECTOR_ROOT = '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328';

// selfTest checks the verifier against the vector: the root, every
// proof of every prefix tree, and that a changed leaf, index, size or proof fails.
export async function selfTest() {
  const errors = [];
  const root = toHex(await merkleRoot(VECTOR_LEAVES));
  if (root !== VECTOR_ROOT) errors.push(`root ${root}, want ${VECTOR_ROOT}`);
  let checked = 0;
  for (let n = 1; n <= VECTOR_LEAVES.length; n++) {
    const leaves = VECTOR_LEAVES.slice(0, n);
    const r = await merkleRoot(leaves);
    for (let i = 0; i < n; i++) {
      const v = await verifyInclusion(i, n, raw(leaves[i]), await inclusionProof(leaves, i), r);
      checked++;
      if (!v.ok) errors.push(`leaf ${i} of ${n}: ${v.error}`);
    }
  }
  const p = await inclusionProof(VECTOR_LEAVES, 3);
  const leaf = raw(VECTOR_LEAVES[3]);
  const bad = [[3, 8, raw('\x20\x22'), p], [2, 8, leaf, p], [3, 4, leaf, p], [3, 8, leaf, p.slice(1)], [3, 8, leaf, [p[1], p[0], p[2]]]];
  for (const [i, [idx, n, l, pr]] of bad.entries()) {
    if ((await verifyInclusion(idx, n, l, pr, VECTOR_ROOT)).ok) errors.push(`tampered case ${i} verified`);
  }
  return { ok: errors.length === 0, root, checked, errors };
}

// verifyNote checks the Ed25519 signatures of a signed note (C2SP signed-note, as Go's
// sumdb/note writes it) against verifier keys "name+hash+base64(0x01 || public key)",
// and returns the names whose signature verifies over the note's text.
export async function verifyNote(note, vkeys) {
  const cut = note.indexOf('\n\n');
  if (cut < 0 || !globalThis.crypto?.subtle) return [];
  const text = new TextEncoder().encode(note.slice(0, cut + 1));
  const sigs = note.slice(cut + 2).split('\n').filter((l) => l.startsWith('\u2014 '));
  const ok = [];
  for (const vk of vkeys || []) {
    // name+hash+key, where the base64 key may itself contain '+'.
    const [name, hash, ...rest] = vk.split('+');
    const key = rest.join('+');
    const kb = key ? fromBase64(key) : new Uint8Array();
    if (kb.length !== 33 || kb[0] !== 1) continue;
    const pub = await crypto.subtle.importKey('raw', kb.slice(1), { name: 'Ed25519' }, false, ['verify']);
    for (const line of sigs) {
      if (!line.startsWith('\u2014 ' + name + ' ')) continue;
      const sig = fromBase64(line.slice(3 + name.length));
      if (sig.length !== 68 || toHex(sig.slice(0, 4)) !== hash) continue;
      if (await crypto.subtle.verify({ name: 'Ed25519' }, pub, sig.slice(4), text)) ok.push(name);
    }
  }
  return ok;
}
