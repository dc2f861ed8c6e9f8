import { SpscRing } from '../src/index.js';
const cap = 1 << 20;
const sab = new SharedArrayBuffer(512 + cap);
const p = SpscRing.create(sab, { capacity: cap, role: 'producer' });
const c = SpscRing.open(sab, { role: 'consumer' });
const msg = new Uint8Array(64).fill(7);
let sink = 0; const touch = (v: Uint8Array) => { sink += v[0]!; };
function bench(name: string, fn: () => void) {
  for (let w = 0; w < 3; w++) fn();
  const t0 = performance.now(); const N = 10; for (let i = 0; i < N; i++) fn(); const dt = performance.now() - t0;
  console.log(name, ((dt * 1e6) / (N * 10000)).toFixed(1), 'ns/msg');
}
bench('tryWrite+tryRead', () => { for (let i = 0; i < 10000; i++) { p.tryWrite(msg); } for (let i = 0; i < 10000; i++) c.tryRead(); });
bench('tryWrite+drain', () => { for (let i = 0; i < 10000; i++) { p.tryWrite(msg); } c.drain(touch); });
bench('claim+drain', () => { for (let i = 0; i < 10000; i++) { const cl = p.tryClaim(64)!; cl.bytes[0] = 1; cl.commit(); } c.drain(touch); });
const batch = Array.from({ length: 64 }, () => msg);
bench('writeMany+drain', () => { for (let i = 0; i < 10000 / 64; i++) p.tryWriteMany(batch); c.drain(touch); });
