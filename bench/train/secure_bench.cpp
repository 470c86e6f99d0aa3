// Issue 8 item 5, the crypto of one round of encrypted averaging
// (--secure-agg ckks) for a real contribution size, beside the plaintext
// mean of the same vectors measured in the same run:
//   encrypt     one trainer clips nothing (values already in range) and
//               encrypts its d floats (SecureSumEncryptor), then serializes
//   aggregate   the aggregator deserializes and adds n contributions
//   decrypt     a trainer deserializes the sum and decrypts the mean
//   round       encrypt + aggregate + decrypt: the critical path of one round
//               (trainers encrypt in parallel)
// and the bytes of one contribution on the wire, encrypted (train_ct) vs
// plain (train, f32). Keys: train::SecureAggParams(n, clip 4) — the preset
// `swarm train --secure-agg ckks` generates.
//   bench_train_secure [--dim D,D2] [--n N]
// Torch-free; one thread. Times are this thread's CPU time (best of 3), for
// the figures and the anchor alike: the build machine is shared and heavily
// loaded, where wall-clock time mostly measures waiting for a core.
#include <time.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "bench_util.h"
#include "common/rng.h"
#include "fhe/keyset.h"
#include "fhe/secure_sum.h"
#include "train/aggregator.h"
#include "train/contribution_codec.h"
#include "train/secure_codec.h"
#include "train/secure_round.h"

using swarm::bench::Emit;
using swarm::bench::Row;

namespace {

std::vector<size_t> ParseList(const char* s) {
  std::vector<size_t> out;
  for (const char* p = s; *p;) {
    out.push_back(std::strtoull(p, nullptr, 10));
    while (*p && *p != ',') ++p;
    if (*p == ',') ++p;
  }
  return out;
}

// Thread CPU seconds per call, best of 3 (bench_util.h).
double CpuSecondsPerCall(const std::function<void()>& fn, double min_seconds = 0.2, int min_iters = 2) {
  return swarm::bench::ThreadCpuSecondsPerCall(fn, min_seconds, min_iters, 3);
}

}  // namespace

int main(int argc, char** argv) {
  // 25,000 ~ the digits MoE's shared parameters (remote experts, the demo;
  // bench_train_sync uses the same); 71,890 = every parameter of the default
  // digits MoE with local experts (swarm train --expert-hosts 0).
  std::vector<size_t> dims = {25'000, 71'890};
  size_t n = 4;
  const double clip = 4.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--dim") dims = ParseList(argv[i + 1]);
    else if (a == "--n") n = std::strtoull(argv[i + 1], nullptr, 10);
  }
  auto spec = swarm::train::SecureAggParams(n, clip);
  if (!spec.ok()) return std::fprintf(stderr, "%s\n", std::string(spec.status().message()).c_str()), 1;
  auto keys = swarm::fhe::GenerateKeySet(*spec, {.relin_key = false, .galois_keys = false});
  if (!keys.ok()) return std::fprintf(stderr, "%s\n", std::string(keys.status().message()).c_str()), 1;
  const auto& ctx = keys->eval.ctx;
  auto enc = swarm::fhe::SecureSumEncryptor::Create(ctx, *keys->eval.public_key, {.scale = 0, .value_abs_max = clip});
  auto dec = swarm::fhe::SecureSumDecryptor::Create(ctx, keys->secret_key, 2);
  if (!enc.ok() || !dec.ok()) return std::fprintf(stderr, "key setup failed\n"), 1;
  swarm::Rng rng(1);
  const std::string where = " (n = " + std::to_string(n) + ", CKKS N = " + std::to_string(ctx->n()) + ")";
  for (size_t dim : dims) {
    std::vector<std::vector<float>> vs(n, std::vector<float>(dim));
    for (auto& v : vs) {
      for (auto& x : v) x = static_cast<float>(rng.UniformDouble(-1, 1));
    }
    std::vector<swarm::Bytes> wires(n);
    for (size_t i = 0; i < n; ++i) {
      wires[i] = swarm::fhe::SerializeEncryptedVector(*ctx, *enc->Encrypt(vs[i]));
    }
    const double encrypt = CpuSecondsPerCall(
        [&] { (void)swarm::fhe::SerializeEncryptedVector(*ctx, *enc->Encrypt(vs[0])); });
    swarm::Bytes sum_wire;
    const double aggregate = CpuSecondsPerCall(
        [&] {
          swarm::fhe::SecureSumAggregator agg(ctx, keys->eval.key_id);
          for (const auto& w : wires) (void)agg.AddSerialized(w);
          sum_wire = swarm::fhe::SerializeEncryptedVector(*ctx, agg.sum());
        },
        0.2, 2);
    std::vector<float> mean;
    const double decrypt = CpuSecondsPerCall(
        [&] { mean = *dec->DecryptMean(*swarm::fhe::DeserializeEncryptedVector(*ctx, sum_wire)); });
    // Check the decrypted mean against the plaintext mean (the anchor's output).
    auto plain_agg = std::move(*swarm::train::MakeAggregator({.name = "mean"}));
    std::vector<swarm::train::Contribution> views(vs.begin(), vs.end());
    std::vector<float> plain(dim);
    const double plain_mean = CpuSecondsPerCall([&] { (void)plain_agg->Aggregate(views, plain); });
    double err = 0;
    for (size_t k = 0; k < dim; ++k) err = std::max(err, static_cast<double>(std::fabs(mean[k] - plain[k])));
    if (err > 1e-3) return std::fprintf(stderr, "decrypted mean is off by %g\n", err), 1;
    const std::string d = ", d = " + std::to_string(dim) + " floats" + where;
    const std::string anchor = "plaintext mean of the same n vectors (train::MeanAggregator)";
    auto row = [&](const std::string& fig, double s, const std::string& note) {
      Emit(Row{.section = "train",
               .figure = fig + d,
               .value = s * 1e3,
               .unit = "ms CPU",
               .anchor = anchor,
               .anchor_value = plain_mean * 1e3,
               .note = note,
               .command = "build/bench/train/bench_train_secure"});
    };
    row("secure aggregation round crypto (encrypt + aggregate + decrypt)", encrypt + aggregate + decrypt,
        "critical path of one --secure-agg ckks round (trainers encrypt in parallel); max |decrypted - plain| = " +
            std::to_string(err));
    row("secure aggregation: encrypt one contribution", encrypt, "SecureSumEncryptor + serialize, per trainer");
    row("secure aggregation: aggregator adds n contributions", aggregate,
        "deserialize and check n train_ct blobs, add, serialize the sum; no secret key");
    row("secure aggregation: decrypt the mean", decrypt, "deserialize the sum, decrypt, divide by n, per trainer");
    const size_t plain_bytes =
        swarm::train::EncodeContributionF32({.job = 1, .round = 1, .sender = "127.0.0.1:40000"}, vs[0]).size();
    const size_t ct_bytes =
        swarm::train::EncodeSecureCiphertext({.job = 1, .round = 1, .sender = "127.0.0.1:40000"}, wires[0]).size();
    Emit(Row{.section = "train",
             .figure = "secure aggregation: bytes per contribution on the wire" + d,
             .value = static_cast<double>(ct_bytes),
             .unit = "bytes",
             .anchor = "the plain f32 contribution (train envelope payload)",
             .anchor_value = static_cast<double>(plain_bytes),
             .note = "level-0 CKKS: 2 polynomials of N 64-bit words per N/2 floats = 32 bytes per float, vs 4; "
                     "plaintext averaging sends n-1 copies per trainer, encrypted averaging 1 (plus 1 sum back)",
             .command = "build/bench/train/bench_train_secure"});
  }
  return 0;
}
