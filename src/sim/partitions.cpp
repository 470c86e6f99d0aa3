#include "sim/partitions.h"

namespace swarm::sim {

Status PartitionSet::Add(const std::string& name, const std::vector<NodeId>& group, Nanos start,
                         Nanos heal) {
  if (name.empty()) return absl::InvalidArgumentError("partition: name is empty");
  for (const auto& p : parts_)
    if (p.name == name)
      return absl::InvalidArgumentError(absl::StrCat("partition: name '", name, "' already used"));
  if (heal < start)
    return absl::InvalidArgumentError(
        absl::StrCat("partition '", name, "': heal=", heal, "ns is before start=", start, "ns"));
  Part p{name, std::vector<uint8_t>(node_count_, 0), start, heal};
  for (NodeId n : group) {
    if (n >= node_count_)
      return absl::InvalidArgumentError(absl::StrCat("partition '", name, "': node ", n,
                                                     " >= node_count ", node_count_));
    p.in[n] = 1;
  }
  parts_.push_back(std::move(p));
  return absl::OkStatus();
}

Status PartitionSet::SetHeal(const std::string& name, Nanos heal) {
  for (auto& p : parts_) {
    if (p.name == name) {
      p.heal = heal;
      return absl::OkStatus();
    }
  }
  return absl::NotFoundError(absl::StrCat("partition: no partition named '", name, "'"));
}

bool PartitionSet::AnyActive(Nanos now) const {
  for (const auto& p : parts_)
    if (now >= p.start && now < p.heal) return true;
  return false;
}

}  // namespace swarm::sim
