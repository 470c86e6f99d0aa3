#include "membership/peer_directory.h"

#include "absl/strings/escaping.h"

namespace swarm::membership {

Status PeerDirectory::ValidateName(std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("peer id is empty");
  if (name.size() > kNameBytesMax)
    return absl::InvalidArgumentError(absl::StrCat("peer id of ", name.size(), " bytes exceeds name_bytes_max=",
                                                   kNameBytesMax));
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == ':' || c == '-';
    if (!ok)
      return absl::InvalidArgumentError(absl::StrCat("peer id '", absl::CHexEscape(std::string(name)),
                                                     "' has a character outside [A-Za-z0-9._:-]"));
  }
  return absl::OkStatus();
}

StatusOr<MemberId> PeerDirectory::Intern(std::string_view name) {
  if (auto id = Find(name)) return *id;
  SWARM_RETURN_IF_ERROR(ValidateName(name));
  if (names_.size() >= peers_max_)
    return absl::ResourceExhaustedError(
        absl::StrCat("peer directory full: peers_max=", peers_max_, " (new peer id '", std::string(name), "')"));
  const auto id = static_cast<MemberId>(names_.size());
  names_.emplace_back(name);
  index_.emplace(std::string(name), id);
  return id;
}

std::optional<MemberId> PeerDirectory::Find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

}  // namespace swarm::membership
