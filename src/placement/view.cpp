#include "placement/view.h"

namespace swarm::placement {

std::vector<PeerInfo> PeersFromView(const std::vector<membership::MemberView>& members,
                                    const membership::PeerDirectory& dir) {
  std::vector<PeerInfo> out;
  for (const auto& m : members) {
    if (m.state != membership::MemberState::kAlive && m.state != membership::MemberState::kSuspect) continue;
    if (m.id >= dir.size() || !m.meta) continue;
    out.push_back(PeerInfo{dir.Name(m.id), m.meta->capacity, m.meta->region});
  }
  return out;
}

}  // namespace swarm::placement
