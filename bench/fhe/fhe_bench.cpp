// fhe/ benchmarks, one thread. Anchor for every scheme operation: NTL's
// product of two random degree-N polynomials modulo X^N + 1 and a 60-bit
// prime (zz_pX MulMod), measured in the same run on the same machine; the
// ratio says how many such NTL products the operation costs. The NTT row
// compares our negacyclic NTT product with NTL's on the same inputs (results
// checked equal). Published figures of other libraries, measured on other
// machines, appear only in the note column, labelled as such.
//
// Times are per-thread CPU time (CLOCK_THREAD_CPUTIME_ID), best of 3 runs:
// the build machine is shared by several engineers (load often 10+ on 2
// cores), where wall-clock time mostly measures waiting for a core.
#include <NTL/lzz_pX.h>

#include <ctime>
#include <cstdio>
#include <string>

#include "bench_util.h"
#include "common/rng.h"
#include "fhe/bfv.h"
#include "fhe/ckks.h"
#include "fhe/keyset.h"
#include "fhe/ntt_simd.h"
#include "fhe/secure_sum.h"

using namespace swarm;
using namespace swarm::fhe;
using swarm::bench::Emit;
using swarm::bench::Row;

namespace {

// Thread CPU time per call (bench_util.h), so a loaded machine's waiting is not counted.
double SecondsPerCall(const std::function<void()>& fn, double min_seconds, int min_iters = 3, int repeats = 3) {
  return swarm::bench::ThreadCpuSecondsPerCall(fn, min_seconds, min_iters, repeats);
}

const char* kCommand = "build/bench/fhe/bench_fhe";
constexpr double kMinSeconds = 0.2;

struct NtlAnchor {
  double seconds = 0;
  std::string name;
};

// Our product vs NTL's for the same polynomials mod the same prime; returns NTL's time.
NtlAnchor NttVersusNtl(size_t n) {
  const uint64_t q = (*GenerateNttPrimes(59, 1, 2 * n))[0];  // < 2^59 < NTL_SP_BOUND
  auto tables = *NttTables::Create(n, q);
  Rng rng(n);
  std::vector<uint64_t> a(n), b(n);
  for (auto& v : a) v = rng.Uniform(q);
  for (auto& v : b) v = rng.Uniform(q);
  std::vector<uint64_t> fa(n), fb(n);
  auto ours = [&] {
    fa = a;
    fb = b;
    tables.Forward(fa.data());
    tables.Forward(fb.data());
    for (size_t i = 0; i < n; ++i) fa[i] = tables.modulus().Mul(fa[i], fb[i]);
    tables.Inverse(fa.data());
  };
  NTL::zz_p::init(static_cast<long>(q));
  NTL::zz_pX na, nb, nc, modpoly;
  for (size_t i = 0; i < n; ++i) {
    NTL::SetCoeff(na, static_cast<long>(i), NTL::to_zz_p(static_cast<long>(a[i])));
    NTL::SetCoeff(nb, static_cast<long>(i), NTL::to_zz_p(static_cast<long>(b[i])));
  }
  NTL::SetCoeff(modpoly, static_cast<long>(n), 1);
  NTL::SetCoeff(modpoly, 0, 1);
  const NTL::zz_pXModulus F(modpoly);
  auto ntl = [&] { NTL::MulMod(nc, na, nb, F); };
  ours();
  ntl();
  for (size_t i = 0; i < n; ++i) {
    if (static_cast<uint64_t>(NTL::rep(NTL::coeff(nc, static_cast<long>(i)))) != fa[i]) {
      std::fprintf(stderr, "NTT and NTL products differ at %zu (N=%zu)\n", i, n);
      std::exit(1);
    }
  }
  const double t_ours = SecondsPerCall(ours, kMinSeconds);
  const double t_ntl = SecondsPerCall(ntl, kMinSeconds);
  NtlAnchor anchor{t_ntl, "NTL zz_pX MulMod mod X^" + std::to_string(n) + "+1, 59-bit prime"};
  Row r;
  r.section = "fhe";
  r.figure = "negacyclic NTT polynomial product, N=" + std::to_string(n) + ", 59-bit prime";
  r.value = t_ours * 1e6;
  r.unit = "us (thread CPU)";
  r.anchor = anchor.name + " (same polynomials, result checked equal)";
  r.anchor_value = t_ntl * 1e6;
  r.note = "ratio < 1: ours faster than NTL";
  r.command = kCommand;
  Emit(r);
  return anchor;
}

// The Highway kernel against the scalar transform of the same input (same run).
void NttSimdVersusScalar(size_t n) {
  const uint64_t q = (*GenerateNttPrimes(60, 1, 2 * n))[0];
  auto tables = *NttTables::Create(n, q);
  Rng rng(n + 1);
  std::vector<uint64_t> a(n), w(n);
  for (auto& v : a) v = rng.Uniform(q);
  const double t_simd = SecondsPerCall([&] { w = a; tables.Forward(w.data()); }, kMinSeconds);
  const double t_scalar = SecondsPerCall([&] { w = a; tables.ForwardScalar(w.data()); }, kMinSeconds);
  Row r;
  r.section = "fhe";
  r.figure = "negacyclic NTT forward, N=" + std::to_string(n) + ", 60-bit prime, Highway kernel (" +
             (NttSimdAvailable() ? "AVX-512" : "no AVX-512: scalar") + ")";
  r.value = t_simd * 1e6;
  r.unit = "us (thread CPU)";
  r.anchor = "the scalar forward NTT, same input, same run";
  r.anchor_value = t_scalar * 1e6;
  r.note = "ratio < 1: the SIMD kernel is faster (outputs identical, tests/fhe/ntt_test)";
  r.command = kCommand;
  Emit(r);
}

void EmitOp(const std::string& figure, double seconds, const NtlAnchor& anchor, const std::string& note = "") {
  Row r;
  r.section = "fhe";
  r.figure = figure;
  r.value = seconds * 1e6;
  r.unit = "us (thread CPU)";
  r.anchor = anchor.name;
  r.anchor_value = anchor.seconds * 1e6;
  r.note = "ratio = cost in NTL polynomial products" + (note.empty() ? std::string() : "; " + note);
  r.command = kCommand;
  Emit(r);
}

std::array<uint8_t, 32> Seed() {
  std::array<uint8_t, 32> s{};
  s[0] = 77;
  return s;
}

void BenchCkks(size_t n, const NtlAnchor& anchor) {
  auto ctx = *Context::Create(*CkksPreset(n));
  const std::string tag = "CKKS N=" + std::to_string(n) + " (" + std::to_string(ctx->moduli().size()) + " primes)";
  KeyGenerator kg(ctx, Prng::FromSeed(Seed()));
  SecretKey sk = kg.GenerateSecretKey();
  auto rk = std::make_shared<RelinKey>(*kg.GenerateRelinKey(sk));
  auto gk = std::make_shared<GaloisKeys>(*kg.GenerateGaloisKeys(sk, {1}, false));
  CkksEncoder enc(ctx);
  Encryptor encr = *Encryptor::Create(ctx, *kg.GeneratePublicKey(sk));
  CkksEvaluator ev(ctx, rk, gk);
  Rng rng(1);
  std::vector<double> v(enc.slot_count());
  for (auto& x : v) x = rng.UniformDouble(-1, 1);
  Plaintext pt = *enc.Encode(std::span<const double>(v));
  Ciphertext a = *encr.Encrypt(pt), b = *encr.Encrypt(pt);
  Ciphertext prod = *ev.MultiplyRelin(a, b);
  const bool is8k = n == 8192;
  EmitOp(tag + " encode", SecondsPerCall([&] { pt = *enc.Encode(std::span<const double>(v)); }, kMinSeconds), anchor);
  EmitOp(tag + " encrypt (public key)", SecondsPerCall([&] { a = *encr.Encrypt(pt); }, kMinSeconds), anchor);
  Ciphertext s;
  EmitOp(tag + " add", SecondsPerCall([&] { s = *ev.Add(a, b); }, kMinSeconds), anchor);
  EmitOp(tag + " multiply+relinearize", SecondsPerCall([&] { prod = *ev.MultiplyRelin(a, b); }, kMinSeconds), anchor,
         is8k ? "published, other machines: OpenFHE example MultRelin ≈ 3160 us" : "");
  EmitOp(tag + " rescale", SecondsPerCall([&] { s = *ev.Rescale(prod); }, kMinSeconds), anchor,
         is8k ? "published, other machines: OpenFHE Rescale ≈ 550 us, SEAL N=8192 rescale ≈ 1070 us" : "");
  EmitOp(tag + " multiply+relinearize+rescale", SecondsPerCall([&] { s = *ev.MultiplyRelinRescale(a, b); }, kMinSeconds), anchor,
         is8k ? "published, other machines: TenSEAL N=8192 ct x ct multiply incl. relin+rescale ≈ 3250 us" : "");
  EmitOp(tag + " rotate by 1", SecondsPerCall([&] { s = *ev.Rotate(a, 1); }, kMinSeconds), anchor);
  if (is8k) {
    // The same two operations with the scalar NTT (before the Highway kernels).
    SetNttSimdEnabled(false);
    const double mr = SecondsPerCall([&] { prod = *ev.MultiplyRelin(a, b); }, kMinSeconds);
    const double rot = SecondsPerCall([&] { s = *ev.Rotate(a, 1); }, kMinSeconds);
    SetNttSimdEnabled(true);
    EmitOp(tag + " multiply+relinearize, scalar NTT", mr, anchor);
    EmitOp(tag + " rotate by 1, scalar NTT", rot, anchor);
    // y = M x for a 32 x 32 plain matrix: 31 rotations hoisted (one digit decomposition).
    auto gk2 = std::make_shared<GaloisKeys>(*kg.GenerateGaloisKeys(sk, CkksEvaluator::MatVecSteps(32, 32), false));
    CkksEvaluator ev2(ctx, rk, gk2);
    std::vector<double> m(32 * 32);
    for (auto& x : m) x = rng.UniformDouble(-1, 1);
    Ciphertext x = *encr.Encrypt(*enc.Encode(std::span<const double>(v.data(), 32)));
    EmitOp(tag + " matrix 32x32 times vector (hoisted rotations)",
           SecondsPerCall([&] { s = *ev2.MatVec(enc, x, m, 32, 32); }, kMinSeconds, 1, 1), anchor);
  }
}

void BenchBfv(size_t n, const NtlAnchor& anchor) {
  auto ctx = *Context::Create(*BfvPreset(n));
  const std::string tag = "BFV N=" + std::to_string(n) + " (" + std::to_string(ctx->data_prime_count()) + "+1 primes, t 20 bits)";
  KeyGenerator kg(ctx, Prng::FromSeed(Seed()));
  SecretKey sk = kg.GenerateSecretKey();
  auto rk = std::make_shared<RelinKey>(*kg.GenerateRelinKey(sk));
  BfvEncoder enc(ctx);
  Encryptor encr = *Encryptor::Create(ctx, *kg.GeneratePublicKey(sk));
  BfvEvaluator ev(ctx, rk);
  std::vector<uint64_t> v(n);
  Rng rng(2);
  for (auto& x : v) x = rng.Uniform(ctx->plain_modulus());
  Ciphertext a = *encr.Encrypt(*enc.Encode(v)), b = *encr.Encrypt(*enc.Encode(v)), s;
  EmitOp(tag + " multiply (HPS tensor, no relin)", SecondsPerCall([&] { s = *ev.Multiply(a, b); }, kMinSeconds), anchor);
  EmitOp(tag + " multiply+relinearize", SecondsPerCall([&] { s = *ev.MultiplyRelin(a, b); }, kMinSeconds), anchor);
}

// Secure gradient sums (secure_sum.h): one chunk = N/2 floats at level 0.
void BenchSecureSum(const NtlAnchor& anchor) {
  KeyGenOptions o;
  o.relin_key = false;
  o.galois_keys = false;
  KeySet ks = *GenerateKeySet(*CkksPreset(8192), o);
  auto enc = *SecureSumEncryptor::Create(ks.eval.ctx, *ks.eval.public_key);
  auto dec = *SecureSumDecryptor::Create(ks.eval.ctx, ks.secret_key);
  Rng rng(3);
  std::vector<float> g(4096);
  for (auto& x : g) x = static_cast<float>(rng.UniformDouble(-1, 1));
  EncryptedVector c = *enc.Encrypt(g);
  const size_t bytes = SecureSumContributionBytes(*ks.eval.ctx, g.size());
  const std::string tag = "secure sum N=8192, 4096 floats (one level-0 chunk, " + std::to_string(bytes) + " bytes)";
  EmitOp(tag + ": encrypt a contribution", SecondsPerCall([&] { c = *enc.Encrypt(g); }, kMinSeconds), anchor);
  SecureSumAggregator agg(ks.eval.ctx, ks.eval.key_id);
  (void)agg.Add(c);
  EmitOp(tag + ": aggregator Add (mean of the first (copy) and second (ciphertext add))",
         SecondsPerCall([&] { agg.Reset(); (void)agg.Add(c); (void)agg.Add(c); }, kMinSeconds) / 2, anchor);
  EmitOp(tag + ": decrypt the sum", SecondsPerCall([&] { (void)dec.DecryptSum(agg.sum()); }, kMinSeconds), anchor);
}

}  // namespace

int main() {
  const NtlAnchor a8 = NttVersusNtl(8192);
  const NtlAnchor a16 = NttVersusNtl(16384);
  NttSimdVersusScalar(8192);
  NttSimdVersusScalar(16384);
  BenchCkks(8192, a8);
  BenchCkks(16384, a16);
  BenchBfv(8192, a8);
  BenchSecureSum(a8);
  return 0;
}
