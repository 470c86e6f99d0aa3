// Ledger append and verify rates. Appends are durable (WAL, synchronous=FULL),
// so their anchor is the raw durability floor of the same file system in the
// same run: appending ~200 bytes to a file and fdatasync-ing it. Verify is
// anchored on the bare signature verification it must do per record.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "bench_util.h"
#include "crypto/merkle.h"
#include "store/signers.h"

namespace {

using swarm::bench::Emit;
using namespace swarm::store;

constexpr int kAppends = 200;
const char* const kCommand = "build/bench/store/bench_store";

double FsyncPerSecond(const std::string& path) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  SWARM_ASSERT(fd >= 0);
  char buf[200] = {};
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kAppends; ++i) {
    SWARM_ASSERT(write(fd, buf, sizeof(buf)) == static_cast<ssize_t>(sizeof(buf)));
    SWARM_ASSERT(fdatasync(fd) == 0);
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  close(fd);
  return kAppends / s;
}

double AppendsPerSecond(Ledger& ledger, const RecordSigner& signer) {
  const auto root = swarm::crypto::MerkleEmptyRoot();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kAppends; ++i) SWARM_ASSERT(ledger.Append({1, "bench", root}, signer).ok());
  return kAppends /
         std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main() {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("swarm_ledger_bench_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto ed = Ed25519RecordSigner::Generate();
  auto id = swarm::crypto::Identity::Generate(swarm::crypto::SignatureScheme::kMlDsa65);
  SWARM_ASSERT(ed.ok() && id.ok());
  IdentityRecordSigner ml(*id);
  auto ledger = Ledger::Open((dir / "ledger.db").string());
  SWARM_ASSERT(ledger.ok());

  const double fsync_rate = FsyncPerSecond((dir / "fsync.bin").string());
  const double ml_rate = AppendsPerSecond(**ledger, ml);
  const double ed_rate = AppendsPerSecond(**ledger, **ed);
  const double fsync_rate2 = FsyncPerSecond((dir / "fsync.bin").string());
  const double floor = std::max(fsync_rate, fsync_rate2);
  const std::string note = "ratio = durable appends/s / (200-byte write + fdatasync)/s on the same "
                           "file system, best of two anchor runs around the appends";
  Emit({.section = "store", .figure = "ledger append (ML-DSA-65 signed, durable)", .value = ml_rate,
        .unit = "appends/s", .anchor = "write+fdatasync of 200 bytes", .anchor_value = floor,
        .anchor_unit = "syncs/s", .note = note, .command = kCommand});
  Emit({.section = "store", .figure = "ledger append (Ed25519 signed, durable)", .value = ed_rate,
        .unit = "appends/s", .anchor = "write+fdatasync of 200 bytes", .anchor_value = floor,
        .anchor_unit = "syncs/s", .note = note, .command = kCommand});

  // Verify walks 2 * kAppends records: half ML-DSA-65, half Ed25519.
  const auto v0 = std::chrono::steady_clock::now();
  auto report = (*ledger)->Verify();
  const double verify_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - v0).count();
  SWARM_ASSERT(report.ok() && report->ok);
  auto rec = (*ledger)->Get(0);  // an ML-DSA-65 record
  SWARM_ASSERT(rec.ok());
  const swarm::Bytes msg = LedgerSigningBytes(*rec);
  const double sig_s = swarm::bench::SecondsPerCall([&] {
    SWARM_ASSERT(swarm::crypto::VerifySignature(swarm::crypto::SignatureScheme::kMlDsa65,
                                                rec->public_key, msg, rec->signature)
                     .ok());
  });
  Emit({.section = "store", .figure = "ledger verify (half ML-DSA-65, half Ed25519 records)",
        .value = static_cast<double>(report->records_checked) / verify_s, .unit = "records/s",
        .anchor = "bare ML-DSA-65 verify", .anchor_value = 1.0 / sig_s, .anchor_unit = "ops/s",
        .note = "ratio = records/s / ML-DSA-65 verifies/s; Verify also reads, parses and hashes "
                "every record, and the Ed25519 half verifies faster",
        .command = kCommand});
  std::filesystem::remove_all(dir);
  return 0;
}
