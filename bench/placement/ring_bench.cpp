// Ring lookup ns/op beside libmemcached's ketama continuum
// (MEMCACHED_BEHAVIOR_KETAMA, memcached_generate_hash: MD5 of the key, then a
// binary search over 160 points per server) on the same keys and the same
// server count, in the same run. Both are measured in alternation, best of 3.
#include <libmemcached/memcached.h>

#include <string>
#include <vector>

#include "bench_util.h"
#include "placement/bounded.h"
#include "placement/ring.h"

using namespace swarm;
using namespace swarm::placement;
using swarm::bench::Emit;
using swarm::bench::Row;
using swarm::bench::SecondsPerCall;

int main() {
  const std::string cmd = "build/bench/placement/bench_placement";
  // libmemcached's continuum holds at most 100 servers (MEMCACHED_CONTINUUM_SIZE).
  for (int n : {10, 100}) {
    std::vector<PeerInfo> peers;
    memcached_st* mc = memcached_create(nullptr);
    SWARM_ASSERT(mc != nullptr);
    SWARM_ASSERT(memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_KETAMA, 1) == MEMCACHED_SUCCESS);
    for (int i = 0; i < n; ++i) {
      const std::string host = "10." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ".1";
      peers.push_back(PeerInfo{host, 1.0, "r" + std::to_string(i % 4)});
      SWARM_ASSERT(memcached_server_add(mc, host.c_str(), 11211) == MEMCACHED_SUCCESS);
    }
    auto ring = Ring::Build(peers).value();
    constexpr size_t kKeys = 1 << 16;
    std::vector<std::string> keys;
    std::vector<uint64_t> hashes;
    for (size_t k = 0; k < kKeys; ++k) {
      keys.push_back("expert-" + std::to_string(k));
      hashes.push_back(KeyHash(keys.back()));
    }
    volatile uint64_t sink = 0;
    auto ketama = [&] {
      uint64_t s = 0;
      for (const auto& k : keys) s += memcached_generate_hash(mc, k.data(), k.size());
      sink = sink + s;
    };
    auto ours_full = [&] {
      uint64_t s = 0;
      for (const auto& k : keys) s += ring.Primary(KeyHash(k));
      sink = sink + s;
    };
    auto ours_hashed = [&] {
      uint64_t s = 0;
      for (uint64_t h : hashes) s += ring.Primary(h);
      sink = sink + s;
    };
    std::vector<uint32_t> owners;
    auto ours_owners = [&] {
      uint64_t s = 0;
      for (uint64_t h : hashes) {
        ring.Owners(h, &owners);
        s += owners[0];
      }
      sink = sink + s;
    };
    const double per = 1e9 / kKeys;
    double k_ns = 1e300, full_ns = 1e300, hashed_ns = 1e300, owners_ns = 1e300;
    for (int round = 0; round < 3; ++round) {
      k_ns = std::min(k_ns, SecondsPerCall(ketama, 0.2, 3, 1) * per);
      full_ns = std::min(full_ns, SecondsPerCall(ours_full, 0.2, 3, 1) * per);
      hashed_ns = std::min(hashed_ns, SecondsPerCall(ours_hashed, 0.2, 3, 1) * per);
      owners_ns = std::min(owners_ns, SecondsPerCall(ours_owners, 0.2, 3, 1) * per);
    }
    const std::string anchor = "libmemcached ketama memcached_generate_hash (MD5 + search), same keys, n=" +
                               std::to_string(n);
    const std::string nn = " n=" + std::to_string(n) + " (" + std::to_string(ring.vnode_count()) + " vnodes)";
    Emit(Row{"placement", "ring Primary(KeyHash(string)) lookup" + nn, full_ns, "ns/op", anchor, k_ns, "",
             "ours hashes the key with SHA3-256 (OpenSSL EVP), ketama with MD5; lower is better", cmd});
    Emit(Row{"placement", "ring Primary(pre-hashed key) lookup" + nn, hashed_ns, "ns/op", anchor, k_ns, "",
             "binary search only (expert ids are hashed once); lower is better", cmd});
    Emit(Row{"placement", "ring Owners r=3 distinct regions (pre-hashed)" + nn, owners_ns, "ns/op", anchor, k_ns,
             "", "3 replicas in 3 distinct regions; ketama gives 1 server", cmd});
    memcached_free(mc);
  }
  // Bounded-load assignment of 10,000 experts × 3 replicas over 1,000 peers,
  // beside the plain (unbounded) Owners() walk for the same keys.
  {
    std::vector<PeerInfo> peers;
    for (int i = 0; i < 1000; ++i) peers.push_back(PeerInfo{"peer-" + std::to_string(i), 1.0, "r" + std::to_string(i % 4)});
    auto ring = Ring::Build(peers).value();
    std::vector<uint64_t> keys;
    for (uint64_t k = 0; k < 10000; ++k) keys.push_back(KeyHash(k));
    std::vector<uint32_t> o;
    const double bounded = SecondsPerCall([&] { (void)AssignBounded(ring, keys); }, 0.3);
    const double plain = SecondsPerCall([&] {
      for (uint64_t h : keys) ring.Owners(h, &o);
    }, 0.3);
    Emit(Row{"placement", "bounded-load assignment, 10k keys r=3, n=1000, eps=0.25", bounded * 1e3, "ms",
             "unbounded Owners() for the same keys", plain * 1e3, "", "cost of the load caps", cmd});
  }
  return 0;
}
