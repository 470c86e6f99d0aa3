#include "consensus/epoch_proposer.h"

#include <algorithm>

namespace swarm::node {

std::optional<EpochProposal> EpochProposer::OnTick(Nanos now, const std::optional<Bytes>& desired,
                                                   const EpochState& committed) {
  std::optional<crypto::Digest256> root;
  if (desired) root = EpochRoot(*desired);
  if (!started_) {
    // Nothing was observed before the first tick: both clocks start now.
    started_ = true;
    view_root_ = root;
    view_since_ = now;
    committed_ = committed;
    committed_since_ = now;
  }
  if (root != view_root_) {
    view_root_ = root;
    view_since_ = now;
  }
  if (!(committed == committed_)) {
    committed_ = committed;
    committed_since_ = now;
  }
  if (!root) return std::nullopt;
  if (committed.version > 0 && *root == committed.root) return std::nullopt;
  if (in_flight_) return std::nullopt;
  if (attempted_ && now - last_attempt_ < opts_.retry) return std::nullopt;
  if (now - std::max(view_since_, committed_since_) < opts_.settle) return std::nullopt;
  in_flight_ = true;
  attempted_ = true;
  last_attempt_ = now;
  ++proposals_;
  return EpochProposal{kind_, committed.version + 1, *desired, *root};
}

}  // namespace swarm::node
