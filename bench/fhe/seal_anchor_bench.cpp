// CKKS and BFV beside Microsoft SEAL in the same run (issue 18 item 4): our
// fhe/ and SEAL (compiled to WebAssembly, the node-seal npm package, run by
// bench/fhe/node-seal/seal_bench.js under Node) time the same operations at
// the same ring degree with the same coefficient moduli (the presets of
// fhe/params.cpp). Both sides count CPU time of one thread, best of 3.
// Rows: ops/s, ours vs SEAL; ratio = our speed-up over node-seal (goal >= 3).
// The NTL polynomial-product anchor stays in bench_fhe.
//   bench_fhe_seal [--n 8192,16384] [--node PATH]
// Needs `node` and the node-seal package: the first run installs it with npm
// into bench/fhe/node-seal/node_modules (package.json pins the version).
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_util.h"
#include "common/rng.h"
#include "fhe/bfv.h"
#include "fhe/ckks.h"
#include "fhe/encryptor.h"

using namespace swarm;
using namespace swarm::fhe;
using swarm::bench::Emit;
using swarm::bench::Row;
using swarm::bench::ThreadCpuSecondsPerCall;

namespace {

const char* kCommand = "build/bench/fhe/bench_fhe_seal";
const char* kSealDir = "bench/fhe/node-seal";
constexpr double kMinSeconds = 0.3;

std::string Run(const std::string& cmd, int* rc) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) {
    *rc = -1;
    return out;
  }
  char buf[4096];
  size_t got;
  while ((got = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, got);
  *rc = pclose(p);
  return out;
}

// (scheme, n, op) -> microseconds per call, from seal_bench.js.
using SealTimes = std::map<std::tuple<std::string, int, std::string>, double>;

bool RunSeal(const std::string& node, const std::string& ns, SealTimes* times) {
  int rc = 0;
  const std::string probe = std::string("test -d ") + kSealDir + "/node_modules/node-seal";
  if (std::system(probe.c_str()) != 0) {
    std::fprintf(stderr, "bench_fhe_seal: installing node-seal (npm install in %s) ...\n", kSealDir);
    const std::string install = std::string("cd ") + kSealDir + " && npm install --no-audit --no-fund >&2";
    if (std::system(install.c_str()) != 0) {
      std::fprintf(stderr, "bench_fhe_seal: npm install failed in %s; the SEAL anchor needs the npm registry once\n", kSealDir);
      return false;
    }
  }
  const std::string cmd = node + " " + kSealDir + "/seal_bench.js --n " + ns + " --min-ms " +
                          std::to_string(static_cast<int>(kMinSeconds * 1000));
  const std::string out = Run(cmd, &rc);
  if (rc != 0) {
    std::fprintf(stderr, "bench_fhe_seal: '%s' failed (status %d)\n", cmd.c_str(), rc);
    return false;
  }
  size_t pos = 0;
  while (pos < out.size()) {
    const size_t end = out.find('\n', pos);
    const std::string line = out.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    pos = end == std::string::npos ? out.size() : end + 1;
    if (line.empty() || line[0] != '{') continue;
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.contains("us")) {
      std::fprintf(stderr, "bench_fhe_seal: unreadable line from seal_bench.js: %s\n", line.c_str());
      return false;
    }
    (*times)[{j["scheme"].get<std::string>(), j["n"].get<int>(), j["op"].get<std::string>()}] =
        j["us"].get<double>();
  }
  return true;
}

void EmitPair(const std::string& figure, double our_seconds, const SealTimes& seal, const std::string& scheme,
              int n, const std::string& op) {
  const auto it = seal.find({scheme, n, op});
  if (it == seal.end()) {
    std::fprintf(stderr, "bench_fhe_seal: seal_bench.js gave no %s n=%d %s\n", scheme.c_str(), n, op.c_str());
    std::exit(1);
  }
  Row r;
  r.section = "fhe: against SEAL (same run)";
  r.figure = figure;
  r.value = 1.0 / our_seconds;
  r.unit = "ops/s";
  r.anchor = "Microsoft SEAL via node-seal 6.0.3 (WebAssembly under Node), same op and moduli";
  r.anchor_value = 1e6 / it->second;
  r.note = "ratio = our speed-up over node-seal (goal >= 3); both thread CPU time, best of 3; "
           "node-seal is SEAL compiled to WebAssembly (SIMD off, one thread), slower than native SEAL";
  r.command = kCommand;
  Emit(r);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> ns = {8192, 16384};
  std::string node = "node";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--n" && i + 1 < argc) {
      ns.clear();
      for (const char* p = argv[++i]; *p;) {
        ns.push_back(std::atoi(p));
        while (*p && *p != ',') ++p;
        if (*p == ',') ++p;
      }
    } else if (a == "--node" && i + 1 < argc) {
      node = argv[++i];
    } else {
      std::fprintf(stderr, "usage: bench_fhe_seal [--n 8192,16384] [--node PATH]\n");
      return 2;
    }
  }
  std::string ns_arg;
  for (int n : ns) ns_arg += (ns_arg.empty() ? "" : ",") + std::to_string(n);
  SealTimes seal;
  if (!RunSeal(node, ns_arg, &seal)) return 1;

  std::array<uint8_t, 32> seed{};
  seed[0] = 78;
  for (int n : ns) {
    {
      auto preset = CkksPreset(static_cast<size_t>(n));
      if (!preset.ok()) {
        std::fprintf(stderr, "bench_fhe_seal: %s\n", preset.status().ToString().c_str());
        return 1;
      }
      auto ctx = *Context::Create(*preset);
      KeyGenerator kg(ctx, Prng::FromSeed(seed));
      SecretKey sk = kg.GenerateSecretKey();
      auto rk = std::make_shared<RelinKey>(*kg.GenerateRelinKey(sk));
      auto gk = std::make_shared<GaloisKeys>(*kg.GenerateGaloisKeys(sk, {1}, false));
      CkksEncoder enc(ctx);
      Encryptor encr = *Encryptor::Create(ctx, *kg.GeneratePublicKey(sk));
      Decryptor decr = *Decryptor::Create(ctx, sk);
      CkksEvaluator ev(ctx, rk, gk);
      Rng rng(1);
      std::vector<double> v(enc.slot_count());
      for (auto& x : v) x = rng.UniformDouble(-1, 1);
      Plaintext pt = *enc.Encode(std::span<const double>(v));
      Ciphertext a = *encr.Encrypt(pt), b = *encr.Encrypt(pt), s;
      const std::string tag = "CKKS N=" + std::to_string(n) + " (" + std::to_string(ctx->moduli().size()) + " primes)";
      // Pairs, so both sides do the same work (SEAL's CKKS decrypt leaves
      // the inverse NTT to decode).
      std::vector<double> decoded;
      EmitPair(tag + " encode+encrypt (public key)",
               ThreadCpuSecondsPerCall([&] { s = *encr.Encrypt(*enc.Encode(std::span<const double>(v))); }, kMinSeconds),
               seal, "ckks", n, "encode_encrypt");
      EmitPair(tag + " decrypt+decode", ThreadCpuSecondsPerCall([&] { decoded = *enc.Decode(*decr.Decrypt(a)); }, kMinSeconds),
               seal, "ckks", n, "decrypt_decode");
      EmitPair(tag + " multiply+relinearize+rescale",
               ThreadCpuSecondsPerCall([&] { s = *ev.MultiplyRelinRescale(a, b); }, kMinSeconds), seal, "ckks", n,
               "multiply_relin_rescale");
      EmitPair(tag + " rotate by 1", ThreadCpuSecondsPerCall([&] { s = *ev.Rotate(a, 1); }, kMinSeconds), seal,
               "ckks", n, "rotate");
    }
    {
      auto preset = BfvPreset(static_cast<size_t>(n));
      if (!preset.ok()) {
        std::fprintf(stderr, "bench_fhe_seal: %s\n", preset.status().ToString().c_str());
        return 1;
      }
      auto ctx = *Context::Create(*preset);
      KeyGenerator kg(ctx, Prng::FromSeed(seed));
      SecretKey sk = kg.GenerateSecretKey();
      auto rk = std::make_shared<RelinKey>(*kg.GenerateRelinKey(sk));
      BfvEncoder enc(ctx);
      Encryptor encr = *Encryptor::Create(ctx, *kg.GeneratePublicKey(sk));
      Decryptor decr = *Decryptor::Create(ctx, sk);
      BfvEvaluator ev(ctx, rk);
      std::vector<uint64_t> v(static_cast<size_t>(n));
      Rng rng(2);
      for (auto& x : v) x = rng.Uniform(ctx->plain_modulus());
      Plaintext pt = *enc.Encode(v);
      Ciphertext a = *encr.Encrypt(pt), b = *encr.Encrypt(pt), s;
      const std::string tag = "BFV N=" + std::to_string(n) + " (" + std::to_string(ctx->data_prime_count()) +
                              "+1 primes, t 20 bits)";
      std::vector<int64_t> decoded;
      EmitPair(tag + " encode+encrypt (public key)",
               ThreadCpuSecondsPerCall([&] { s = *encr.Encrypt(*enc.Encode(v)); }, kMinSeconds), seal, "bfv", n,
               "encode_encrypt");
      EmitPair(tag + " decrypt+decode", ThreadCpuSecondsPerCall([&] { decoded = *enc.DecodeSigned(*decr.Decrypt(a)); }, kMinSeconds),
               seal, "bfv", n, "decrypt_decode");
      EmitPair(tag + " multiply+relinearize",
               ThreadCpuSecondsPerCall([&] { s = *ev.MultiplyRelin(a, b); }, kMinSeconds), seal, "bfv", n,
               "multiply_relin");
    }
  }
  return 0;
}
