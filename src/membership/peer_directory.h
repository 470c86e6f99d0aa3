// PeerDirectory — maps peer id strings (as in cluster.json, on the wire) to
// the dense MemberId indices Swim uses inside one process, and back.
//
// Indices are assigned in order of first sight and never reused, so a Swim
// instance and its codec must share one directory. Names are 1..name_bytes_max
// bytes of [A-Za-z0-9._:-]. Thread-safety: none (owned by the membership
// driver's thread).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/status.h"
#include "membership/types.h"

namespace swarm::membership {

class PeerDirectory {
 public:
  static constexpr size_t kNameBytesMax = 128;
  explicit PeerDirectory(uint32_t peers_max = 1u << 20) : peers_max_(peers_max) {}

  // InvalidArgument naming the value if `name` is not a valid peer id.
  static Status ValidateName(std::string_view name);
  // Index of `name`, assigning the next one if new. InvalidArgument for a bad
  // name; ResourceExhausted when peers_max names are known.
  StatusOr<MemberId> Intern(std::string_view name);
  std::optional<MemberId> Find(std::string_view name) const;
  // Precondition: id < size().
  const std::string& Name(MemberId id) const { return names_[id]; }
  size_t size() const { return names_.size(); }
  uint32_t peers_max() const { return peers_max_; }

 private:
  uint32_t peers_max_;
  std::vector<std::string> names_;
  absl::flat_hash_map<std::string, MemberId> index_;
};

}  // namespace swarm::membership
