#include "crdt/merkle.h"

#include <cstring>

namespace swarm::crdt {
namespace {

bool IsZero(const Hash& h) {
  for (uint8_t b : h)
    if (b) return false;
  return true;
}

Hash Inner(const Hash* children) {
  bool all_zero = true;
  for (int i = 0; i < kFanout; ++i) all_zero = all_zero && IsZero(children[i]);
  if (all_zero) return Hash{};
  Bytes buf;
  buf.reserve(1 + 32 * kFanout);
  buf.push_back('I');
  for (int i = 0; i < kFanout; ++i) buf.insert(buf.end(), children[i].begin(), children[i].end());
  return crypto::Sha3_256(buf);
}

}  // namespace

void ArchiveMerkle::Update(const ChampionArchive& a) {
  if (built_from_ == &a && version_ == a.version()) return;
  std::array<Bytes, kBuckets> leaf_bytes;
  for (const auto& e : a.entries()) {
    Bytes& b = leaf_bytes[e.id[0]];
    if (b.empty()) b.push_back('L');
    b.insert(b.end(), e.id.begin(), e.id.end());
    uint64_t bits;
    std::memcpy(&bits, &e.fitness, sizeof bits);
    for (int k = 7; k >= 0; --k) b.push_back(static_cast<uint8_t>(bits >> (8 * k)));
  }
  for (int i = 0; i < kBuckets; ++i)
    leaves_[i] = leaf_bytes[i].empty() ? Hash{} : crypto::Sha3_256(leaf_bytes[i]);
  for (int p = 0; p < kFanout; ++p) level1_[p] = Inner(&leaves_[p * kFanout]);
  root_ = Inner(level1_.data());
  built_from_ = &a;
  version_ = a.version();
}

std::array<Hash, kFanout> ArchiveMerkle::Leaves(int prefix) const {
  std::array<Hash, kFanout> out;
  for (int j = 0; j < kFanout; ++j) out[j] = leaves_[prefix * kFanout + j];
  return out;
}

std::vector<ArchiveEntry> ArchiveMerkle::BucketEntries(const ChampionArchive& a, int bucket) {
  std::vector<ArchiveEntry> out;
  for (const auto& e : a.entries())
    if (e.id[0] == bucket) out.push_back(e);
  return out;
}

}  // namespace swarm::crdt
