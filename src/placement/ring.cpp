#include "placement/ring.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "common/bytes.h"
#include "crypto/hash.h"

namespace swarm::placement {
namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t Prefix64(const crypto::Digest256& d) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | d[i];
  return v;
}

}  // namespace

uint64_t KeyHash(std::string_view key) { return Prefix64(crypto::Sha3_256(AsBytes(key))); }
uint64_t KeyHash(uint64_t key) { return SplitMix64(key); }

Status RingConfig::Validate() const {
  if (vnodes_per_capacity < 1 || vnodes_per_capacity > 10000)
    return absl::InvalidArgumentError(
        absl::StrCat("ring config: vnodes_per_capacity=", vnodes_per_capacity, " must be in [1,10000]"));
  if (replicas < 1 || replicas > 16)
    return absl::InvalidArgumentError(absl::StrCat("ring config: replicas=", replicas, " must be in [1,16]"));
  if (!(load_epsilon > 0 && load_epsilon <= 10))
    return absl::InvalidArgumentError(absl::StrCat("ring config: load_epsilon=", load_epsilon, " must be in (0,10]"));
  if (vnodes_per_peer_max < 1)
    return absl::InvalidArgumentError("ring config: vnodes_per_peer_max must be >= 1");
  return absl::OkStatus();
}

StatusOr<Ring> Ring::Build(std::vector<PeerInfo> peers, const RingConfig& cfg) {
  SWARM_RETURN_IF_ERROR(cfg.Validate());
  if (peers.empty()) return absl::InvalidArgumentError("ring: no peers");
  if (peers.size() > cfg.peers_max)
    return absl::InvalidArgumentError(
        absl::StrCat("ring: ", peers.size(), " peers exceed peers_max=", cfg.peers_max));
  std::sort(peers.begin(), peers.end(), [](const PeerInfo& a, const PeerInfo& b) { return a.id < b.id; });
  for (size_t i = 0; i < peers.size(); ++i) {
    const PeerInfo& p = peers[i];
    if (p.id.empty()) return absl::InvalidArgumentError(absl::StrCat("ring: peers[", i, "].id is empty"));
    if (i > 0 && peers[i - 1].id == p.id)
      return absl::InvalidArgumentError(absl::StrCat("ring: duplicate peer id '", p.id, "'"));
    if (!std::isfinite(p.capacity) || p.capacity <= 0)
      return absl::InvalidArgumentError(
          absl::StrCat("ring: peer '", p.id, "' capacity=", p.capacity, " must be finite and > 0"));
  }
  Ring r;
  r.cfg_ = cfg;
  r.peers_ = std::move(peers);
  std::map<std::string, uint32_t> regions;  // ordered: region indices are input-independent
  for (const auto& p : r.peers_) regions.emplace(p.region, 0);
  uint32_t next = 0;
  for (auto& [name, idx] : regions) idx = next++;
  r.region_count_ = regions.size();
  struct Point {
    uint64_t pos;
    uint32_t peer;
  };
  std::vector<Point> pts;
  size_t total = 0;
  std::vector<uint32_t> counts(r.peers_.size());
  for (size_t i = 0; i < r.peers_.size(); ++i) {
    const double want = std::round(cfg.vnodes_per_capacity * r.peers_[i].capacity);
    counts[i] = static_cast<uint32_t>(std::clamp(want, 1.0, static_cast<double>(cfg.vnodes_per_peer_max)));
    total += counts[i];
    r.region_.push_back(regions[r.peers_[i].region]);
  }
  pts.reserve(total);
  for (size_t i = 0; i < r.peers_.size(); ++i) {
    const uint64_t seed = Prefix64(crypto::Sha3_256(AsBytes(r.peers_[i].id)));
    for (uint32_t v = 0; v < counts[i]; ++v)
      pts.push_back(Point{SplitMix64(seed + v * 0x9e3779b97f4a7c15ULL), static_cast<uint32_t>(i)});
  }
  std::sort(pts.begin(), pts.end(),
            [](const Point& a, const Point& b) { return a.pos != b.pos ? a.pos < b.pos : a.peer < b.peer; });
  r.points_.reserve(pts.size());
  r.owner_.reserve(pts.size());
  for (const Point& p : pts) {
    r.points_.push_back(p.pos);
    r.owner_.push_back(p.peer);
  }
  return r;
}

size_t Ring::FirstPoint(uint64_t key_hash) const {
  const auto it = std::lower_bound(points_.begin(), points_.end(), key_hash);
  return it == points_.end() ? 0 : static_cast<size_t>(it - points_.begin());
}

void Ring::Owners(uint64_t key_hash, std::vector<uint32_t>* out) const {
  out->clear();
  const size_t want = std::min<size_t>(cfg_.replicas, peers_.size());
  const bool distinct_regions = region_count_ >= want;
  const size_t start = FirstPoint(key_hash);
  const size_t v = points_.size();
  for (size_t step = 0; step < v && out->size() < want; ++step) {
    const uint32_t p = owner_[(start + step) % v];
    bool ok = true;
    for (uint32_t q : *out) {
      if (q == p || (distinct_regions && region_[q] == region_[p])) {
        ok = false;
        break;
      }
    }
    if (ok) out->push_back(p);
  }
}

}  // namespace swarm::placement
