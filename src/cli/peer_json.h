// Reading what a peer reported in its status JSON, without trusting it: these
// never throw. A NaN or Inf travels as JSON null (nlohmann dumps non-finite
// numbers as null), so null where a number belongs is a poisoned value: the
// caller gets `fallback` and `*poisoned` is set, and reports it as such.
// A missing key gives `fallback` silently (older peers, other roles).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace swarm::cli {

inline double PeerDouble(const nlohmann::json& j, std::string_view key, double fallback, bool* poisoned = nullptr) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  if (it == j.end()) return fallback;
  if (it->is_number()) {
    const double v = it->get<double>();
    if (std::isfinite(v)) return v;
  }
  if (poisoned) *poisoned = true;
  return fallback;
}

inline int64_t PeerInt(const nlohmann::json& j, std::string_view key, int64_t fallback, bool* poisoned = nullptr) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  if (it == j.end()) return fallback;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_number_unsigned()) {
    const uint64_t u = it->get<uint64_t>();
    return u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? fallback : static_cast<int64_t>(u);
  }
  if (poisoned) *poisoned = true;
  return fallback;
}

inline int64_t PeerInt(const nlohmann::json& v, int64_t fallback) {
  if (v.is_number_integer()) return v.get<int64_t>();
  return fallback;
}

inline bool PeerBool(const nlohmann::json& j, std::string_view key, bool fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

inline std::string PeerString(const nlohmann::json& j, std::string_view key, std::string fallback = {}) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

}  // namespace swarm::cli
