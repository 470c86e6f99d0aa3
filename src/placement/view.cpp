#include "placement/view.h"

namespace swarm::placement {

std::vector<PeerInfo> PeersFromView(const std::vector<membership::MemberView>& members,
                                    const membership::PeerDirectory& dir) {
  std::vector<PeerInfo> out;
  for (const auto& m : members) {
    if (m.state != membership::MemberState::kAlive && m.state != membership::MemberState::kSuspect) continue;
    if (m.id >= dir.size() || !m.admission) continue;
    if ((m.admission->roles & membership::kRoleExpertHost) == 0) continue;
    out.push_back(PeerInfo{dir.Name(m.id), m.admission->capacity, m.admission->region, m.admission->operator_name});
  }
  return out;
}

}  // namespace swarm::placement
