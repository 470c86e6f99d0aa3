// Times Microsoft SEAL (node-seal 6.0.3: SEAL compiled to WebAssembly) on the
// CKKS and BFV operations bench_fhe_seal times on swarm's fhe/, with the same
// ring degree and coefficient moduli. Prints one JSON line per operation:
//   {"scheme":"ckks","n":8192,"op":"multiply_relin_rescale","us":1234.5}
// Usage: node seal_bench.js [--n 8192,16384] [--min-ms 300]
// Timing: process CPU time (user + system, process.cpuUsage) per call, best
// of 3 batches of >= min-ms each; WebAssembly here runs on one thread, so
// this is the thread CPU time the C++ side measures, and it does not count
// time the process waited for a core on a loaded machine.
const SEAL = require('node-seal');

const args = process.argv.slice(2);
let ns = [8192, 16384];
let minMs = 300;
for (let i = 0; i < args.length; ++i) {
  if (args[i] === '--n') ns = args[++i].split(',').map(Number);
  else if (args[i] === '--min-ms') minMs = Number(args[++i]);
  else { console.error(`seal_bench: unknown argument ${args[i]}`); process.exit(2); }
}

// The same moduli as swarm's fhe/params.cpp presets (CkksPreset, BfvPreset).
const CKKS_BITS = { 8192: [60, 40, 40, 60], 16384: [60, 40, 40, 40, 40, 40, 40, 60] };
const BFV_BITS = { 8192: [54, 54, 54, 54], 16384: [54, 54, 54, 54, 54, 54, 54, 54] };
const PLAIN_BITS = 20;

function usPerCall(fn) {
  fn();  // warm up
  let best = Infinity;
  for (let r = 0; r < 3; ++r) {
    let iters = 0;
    const start = process.cpuUsage();
    let elapsedMs = 0;
    do {
      fn();
      ++iters;
      const used = process.cpuUsage(start);
      elapsedMs = (used.user + used.system) / 1000;
    } while (elapsedMs < minMs || iters < 3);
    best = Math.min(best, (elapsedMs * 1000) / iters);
  }
  return best;
}

function emit(scheme, n, op, us) {
  console.log(JSON.stringify({ scheme, n, op, us }));
}

(async () => {
  const seal = await SEAL();
  for (const n of ns) {
    if (!CKKS_BITS[n]) throw new Error(`seal_bench: no moduli for n=${n}`);
    {
      const parms = seal.EncryptionParameters(seal.SchemeType.ckks);
      parms.setPolyModulusDegree(n);
      parms.setCoeffModulus(seal.CoeffModulus.Create(n, Int32Array.from(CKKS_BITS[n])));
      const context = seal.Context(parms, true, seal.SecurityLevel.tc128);
      if (!context.parametersSet()) throw new Error(`ckks n=${n}: SEAL refused the parameters`);
      const keygen = seal.KeyGenerator(context);
      const pk = keygen.createPublicKey();
      const sk = keygen.secretKey();
      const relin = keygen.createRelinKeys();
      const galois = keygen.createGaloisKeys(Int32Array.from([1]));
      const encoder = seal.CKKSEncoder(context);
      const encryptor = seal.Encryptor(context, pk);
      const decryptor = seal.Decryptor(context, sk);
      const evaluator = seal.Evaluator(context);
      const scale = Math.pow(2, 40);
      const values = Float64Array.from({ length: encoder.slotCount }, (_, i) => (i % 100) / 100);
      const pt = seal.PlainText();
      encoder.encode(values, scale, pt);
      const a = encryptor.encrypt(pt);
      const b = encryptor.encrypt(pt);
      const out = seal.CipherText();
      const ptOut = seal.PlainText();
      // Encode+encrypt and decrypt+decode: SEAL keeps CKKS plaintexts in NTT
      // form, so its decrypt alone skips the inverse NTT that decode does;
      // timing the pairs compares the same work.
      emit('ckks', n, 'encode_encrypt', usPerCall(() => {
        encoder.encode(values, scale, pt);
        encryptor.encrypt(pt, out);
      }));
      emit('ckks', n, 'decrypt_decode', usPerCall(() => {
        decryptor.decrypt(a, ptOut);
        encoder.decode(ptOut);
      }));
      emit('ckks', n, 'multiply_relin_rescale', usPerCall(() => {
        evaluator.multiply(a, b, out);
        evaluator.relinearize(out, relin, out);
        evaluator.rescaleToNext(out, out);
      }));
      emit('ckks', n, 'rotate', usPerCall(() => evaluator.rotateVector(a, 1, galois, out)));
      // The product must decrypt to the squares, so what was timed works.
      evaluator.multiply(a, b, out);
      evaluator.relinearize(out, relin, out);
      evaluator.rescaleToNext(out, out);
      decryptor.decrypt(out, ptOut);
      const got = encoder.decode(ptOut);
      for (let i = 0; i < 16; ++i) {
        if (Math.abs(got[i] - values[i] * values[i]) > 1e-3) {
          throw new Error(`ckks n=${n}: slot ${i} decrypted to ${got[i]}, expected ${values[i] * values[i]}`);
        }
      }
    }
    {
      const parms = seal.EncryptionParameters(seal.SchemeType.bfv);
      parms.setPolyModulusDegree(n);
      parms.setCoeffModulus(seal.CoeffModulus.Create(n, Int32Array.from(BFV_BITS[n])));
      parms.setPlainModulus(seal.PlainModulus.Batching(n, PLAIN_BITS));
      const context = seal.Context(parms, true, seal.SecurityLevel.tc128);
      if (!context.parametersSet()) throw new Error(`bfv n=${n}: SEAL refused the parameters`);
      const keygen = seal.KeyGenerator(context);
      const pk = keygen.createPublicKey();
      const sk = keygen.secretKey();
      const relin = keygen.createRelinKeys();
      const encoder = seal.BatchEncoder(context);
      const encryptor = seal.Encryptor(context, pk);
      const decryptor = seal.Decryptor(context, sk);
      const evaluator = seal.Evaluator(context);
      const values = Int32Array.from({ length: encoder.slotCount }, (_, i) => i % 1000);
      const pt = seal.PlainText();
      encoder.encode(values, pt);
      const a = encryptor.encrypt(pt);
      const b = encryptor.encrypt(pt);
      const out = seal.CipherText();
      const ptOut = seal.PlainText();
      emit('bfv', n, 'encode_encrypt', usPerCall(() => {
        encoder.encode(values, pt);
        encryptor.encrypt(pt, out);
      }));
      emit('bfv', n, 'decrypt_decode', usPerCall(() => {
        decryptor.decrypt(a, ptOut);
        encoder.decode(ptOut, true);
      }));
      emit('bfv', n, 'multiply_relin', usPerCall(() => {
        evaluator.multiply(a, b, out);
        evaluator.relinearize(out, relin, out);
      }));
      decryptor.decrypt(out, ptOut);
      const got = encoder.decode(ptOut, true);
      for (let i = 0; i < 16; ++i) {
        const expect = (values[i] * values[i]);
        if (got[i] !== expect) throw new Error(`bfv n=${n}: slot ${i} decrypted to ${got[i]}, expected ${expect}`);
      }
    }
  }
})().catch((e) => { console.error(`seal_bench: ${e.message || e}`); process.exit(1); });
