#include "node/consensus/keys.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

namespace swarm::node {

CommitteeKeys::CommitteeKeys(const crypto::Identity& self, std::vector<std::string> committee,
                             std::string pin_file)
    : self_(self), committee_(std::move(committee)), pin_file_(std::move(pin_file)),
      keys_(committee_.size()) {}

Status CommitteeKeys::Load() {
  if (pin_file_.empty() || !std::filesystem::exists(pin_file_)) return absl::OkStatus();
  std::ifstream in(pin_file_);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(pin_file_, ": not a JSON object"));
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < committee_.size(); ++i) {
    if (!j.contains(committee_[i])) continue;
    const auto& e = j[committee_[i]];
    if (!e.is_object() || !e.contains("scheme") || !e.contains("public_key") ||
        !e["scheme"].is_string() || !e["public_key"].is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat(pin_file_, ": entry '", committee_[i], "' needs \"scheme\" and \"public_key\""));
    }
    SWARM_ASSIGN_OR_RETURN(auto scheme, crypto::SchemeFromName(e["scheme"].get<std::string>()));
    auto pk = FromHex(e["public_key"].get<std::string>());
    if (!pk.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(pin_file_, ": entry '", committee_[i], "' public_key: ", pk.status().message()));
    }
    keys_[i] = Key{scheme, std::move(*pk)};
  }
  return absl::OkStatus();
}

Status CommitteeKeys::SaveLocked() const {
  if (pin_file_.empty()) return absl::OkStatus();
  nlohmann::json j = nlohmann::json::object();
  for (size_t i = 0; i < committee_.size(); ++i) {
    if (!keys_[i]) continue;
    j[committee_[i]] = {{"scheme", crypto::SchemeName(keys_[i]->scheme)},
                        {"peer_id", crypto::PeerIdHexOf(keys_[i]->scheme, keys_[i]->public_key)},
                        {"public_key", ToHex(keys_[i]->public_key)}};
  }
  const std::string tmp = pin_file_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump(2) << "\n";
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", tmp));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, pin_file_, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot rename ", tmp, ": ", ec.message()));
  return absl::OkStatus();
}

Status CommitteeKeys::Pin(uint32_t index, crypto::SignatureScheme scheme, ByteSpan public_key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (index >= keys_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("committee index ", index, " >= size ", keys_.size()));
  }
  if (keys_[index]) {
    if (keys_[index]->scheme == scheme && ByteSpan(keys_[index]->public_key).size() == public_key.size() &&
        std::equal(public_key.begin(), public_key.end(), keys_[index]->public_key.begin())) {
      return absl::OkStatus();
    }
    ++refused_;
    return absl::FailedPreconditionError(absl::StrCat(
        "key_changed: committee member ", committee_[index], " answered with peer id ",
        crypto::PeerIdHexOf(scheme, public_key), " but ",
        crypto::PeerIdHexOf(keys_[index]->scheme, keys_[index]->public_key), " is pinned in ",
        pin_file_.empty() ? "memory" : pin_file_));
  }
  keys_[index] = Key{scheme, Bytes(public_key.begin(), public_key.end())};
  return SaveLocked();
}

bool CommitteeKeys::Known(uint32_t index) const {
  std::lock_guard<std::mutex> lock(mu_);
  return index < keys_.size() && keys_[index].has_value();
}

std::optional<CommitteeKeys::Key> CommitteeKeys::KeyOf(uint32_t index) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (index >= keys_.size()) return std::nullopt;
  return keys_[index];
}

size_t CommitteeKeys::known() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& k : keys_) n += k.has_value();
  return n;
}

uint64_t CommitteeKeys::key_changes_refused() const {
  std::lock_guard<std::mutex> lock(mu_);
  return refused_;
}

Bytes CommitteeKeys::Sign(ByteSpan msg) {
  auto sig = self_.Sign(msg);
  return sig.ok() ? std::move(*sig) : Bytes{};
}

bool CommitteeKeys::Verify(consensus::ReplicaId signer, ByteSpan msg, ByteSpan sig) {
  Key key;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (signer.value() >= keys_.size() || !keys_[signer.value()]) return false;
    key = *keys_[signer.value()];
  }
  return crypto::VerifySignature(key.scheme, key.public_key, msg, sig).ok();
}

}  // namespace swarm::node
