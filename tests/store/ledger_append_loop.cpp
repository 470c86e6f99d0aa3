// Test helper for ledger_crash_test: appends records to a ledger forever (or
// `count` times) and prints each acknowledged index on its own line, flushed,
// right after Append returned OK (i.e. after the record is durable).
//   ledger_append_loop DB_PATH SEED_HEX [COUNT]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "crypto/merkle.h"
#include "store/signers.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s DB_PATH SEED_HEX [COUNT]\n", argv[0]);
    return 2;
  }
  auto seed = swarm::FromHex(argv[2]);
  if (!seed.ok()) {
    std::fprintf(stderr, "bad seed: %s\n", std::string(seed.status().message()).c_str());
    return 2;
  }
  auto signer = swarm::store::Ed25519RecordSigner::FromSeed(*seed);
  auto ledger = swarm::store::Ledger::Open(argv[1]);
  if (!signer.ok() || !ledger.ok()) {
    std::fprintf(stderr, "open failed: %s\n",
                 std::string((signer.ok() ? ledger.status() : signer.status()).message()).c_str());
    return 1;
  }
  const long long count = argc > 3 ? std::atoll(argv[3]) : -1;
  for (long long i = 0; count < 0 || i < count; ++i) {
    const std::string payload = "payload " + std::to_string(i);
    swarm::store::LedgerEntry e{static_cast<uint64_t>(i / 10), "crash-test",
                                swarm::crypto::MerkleRootOfBlob(swarm::AsBytes(payload), 4).value()};
    auto rec = (*ledger)->Append(e, **signer);
    if (!rec.ok()) {
      std::fprintf(stderr, "append failed: %s\n", std::string(rec.status().message()).c_str());
      return 1;
    }
    std::printf("%llu\n", static_cast<unsigned long long>(rec->index));
    std::fflush(stdout);
  }
  return 0;
}
