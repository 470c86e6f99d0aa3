// PeersFromView — the ring's input from a membership view: every alive or
// suspect member (suspects still serve until declared dead) whose grant
// (MemberView::admission) has role expert_host, named by its peer id from the
// PeerDirectory, with capacity, region and operator from the grant — never
// from what the member says about itself. Members without an admission are
// left out. Process-local member indices never reach the ring, so peers with
// different directories build the same ring from the same membership.
#pragma once

#include <vector>

#include "membership/peer_directory.h"
#include "membership/swim.h"
#include "placement/ring.h"

namespace swarm::placement {

std::vector<PeerInfo> PeersFromView(const std::vector<membership::MemberView>& members,
                                    const membership::PeerDirectory& dir);

}  // namespace swarm::placement
