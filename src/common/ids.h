// Strong types for identities and counters, so a PeerId can never be passed
// where an ExpertId is expected.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>

namespace swarm {

template <typename Tag, typename T>
class StrongId {
 public:
  using value_type = T;
  constexpr StrongId() = default;
  constexpr explicit StrongId(T v) : value_(std::move(v)) {}
  constexpr const T& value() const { return value_; }
  auto operator<=>(const StrongId&) const = default;
  bool operator==(const StrongId&) const = default;

 private:
  T value_{};
};

// A peer in the simulator and protocols is a dense index; on the wire the
// cryptographic identity (SHA3-256 of the public key) maps to it.
using NodeIndex = StrongId<struct NodeIndexTag, uint32_t>;
using ExpertId = StrongId<struct ExpertIdTag, uint32_t>;
using Epoch = StrongId<struct EpochTag, uint64_t>;
using SequenceNumber = StrongId<struct SequenceNumberTag, uint64_t>;
using Incarnation = StrongId<struct IncarnationTag, uint64_t>;
// Human-facing peer identifier (e.g. "n0", or a short hex of the key hash).
using PeerName = StrongId<struct PeerNameTag, std::string>;

}  // namespace swarm

template <typename Tag, typename T>
struct std::hash<swarm::StrongId<Tag, T>> {
  size_t operator()(const swarm::StrongId<Tag, T>& id) const noexcept {
    return std::hash<T>{}(id.value());
  }
};
