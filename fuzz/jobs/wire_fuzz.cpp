// Fuzz target: the job wire messages a peer receives. Bytes are parsed as a
// RunTaskRequest (a worker's input) and a SubmitJobRequest (a queen's input);
// whatever parses goes through jobs::PrepareJob and jobs::DecodeBatch against
// a fixed CKKS job (N = 4096). Every outcome must be a value or a Status with
// a reason, never a crash. Inputs whose first byte is even are structured: a
// valid batch holding a real ciphertext, corrupted at input-chosen bytes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "fhe/ckks.h"
#include "fhe/keys.h"
#include "fhe/serialize.h"
#include "jobs/wire.h"

using namespace swarm;

namespace {

struct Fixture {
  std::shared_ptr<const jobs::PreparedJob> job;
  std::string ct;
  Fixture() {
    auto ctx = *fhe::Context::Create(*fhe::CkksPreset(4096));
    std::array<uint8_t, 32> seed{};
    fhe::KeyGenerator kg(ctx, fhe::Prng::FromSeed(seed));
    auto sk = kg.GenerateSecretKey();
    auto enc = *fhe::Encryptor::Create(ctx, sk);
    fhe::CkksEncoder e(ctx);
    const std::vector<double> v = {1, 2, 3};
    const Bytes blob = fhe::Serialize(*ctx, *enc.Encrypt(*e.Encode(std::span<const double>(v))));
    ct.assign(blob.begin(), blob.end());
    swarm::v1::JobKeys keys;
    const Bytes p = fhe::SerializeParams(*ctx);
    keys.set_params(std::string(p.begin(), p.end()));
    job = *jobs::PrepareJob("scheme = \"ckks\"\ninputs = [\"x\"]\noutputs = [\"y\"]\n[[op]]\nid = \"y\"\nop = \"negate\"\nargs = [\"x\"]\n", keys);
  }
};

Fixture& F() {
  static Fixture f;
  return f;
}

uint64_t decoded = 0, refused = 0;
struct Report {
  ~Report() { std::printf("decoded %llu, refused %llu\n", (unsigned long long)decoded, (unsigned long long)refused); }
} report;

void Count(const Status& s) {
  if (s.ok()) {
    ++decoded;
  } else {
    if (s.message().empty()) std::abort();
    ++refused;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture& f = F();
  if (size > 0 && data[0] % 2 == 0) {
    swarm::v1::Batch b;
    auto* v = b.add_values();
    v->set_name(size > 1 && data[1] % 5 == 0 ? "z" : "x");
    std::string ct = f.ct;
    for (size_t i = 2; i + 2 < size && i < 40; i += 3) {
      const size_t pos = (static_cast<size_t>(data[i]) << 8 | data[i + 1]) % ct.size();
      ct[pos] = static_cast<char>(data[i + 2]);
    }
    if (size > 1 && data[1] % 7 == 0) ct.resize(ct.size() / (1 + data[1] % 3));
    v->set_ciphertext(ct);
    Count(jobs::DecodeBatch(*f.job, b).status());
    return 0;
  }
  swarm::v1::RunTaskRequest req;
  if (req.ParseFromArray(data, static_cast<int>(size))) {
    Count(jobs::DecodeBatch(*f.job, req.inputs()).status());
    if (!req.circuit().empty() || !req.keys().params().empty()) Count(jobs::PrepareJob(req.circuit(), req.keys()).status());
  }
  swarm::v1::SubmitJobRequest sub;
  if (sub.ParseFromArray(data, static_cast<int>(size))) {
    for (const auto& b : sub.batches()) Count(jobs::DecodeBatch(*f.job, b).status());
    if (!sub.circuit().empty()) Count(jobs::ParseCircuit(sub.circuit()).status());
  }
  return 0;
}
