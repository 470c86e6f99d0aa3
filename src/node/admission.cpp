#include "node/admission.h"

#include "crypto/identity.h"
#include "net/address.h"

namespace swarm::node {
namespace {

std::string Short(const crypto::PeerIdBytes& id) { return ToHex(ByteSpan(id).first(8)); }

}  // namespace

std::string AdmissionView::mode() const {
  if (open) return "open";
  return verifier ? "granted" : "closed";
}

nlohmann::json AdmissionView::StatusJson() const {
  nlohmann::json j = {{"mode", mode()}, {"open", open}, {"swarm_id", swarm_id}};
  if (open) j["warning"] = "admission.open = true: calls from peers without a grant are accepted";
  nlohmann::json issuers = nlohmann::json::array();
  if (verifier) {
    for (const auto& k : verifier->issuers()) issuers.push_back(Short(k.id));
  }
  j["issuers"] = issuers;
  if (own) {
    j["grant"] = {{"roles", admission::RoleSetNames(own->roles)},
                  {"capacity", own->capacity},
                  {"operator", own->operator_name},
                  {"region", own->region},
                  {"address", own->address},
                  {"issuer", Short(own->issuer)},
                  {"not_before_unix_ms", own->not_before_unix_ms},
                  {"expires_unix_ms", own->expires_unix_ms},
                  {"serial", own->serial}};
  } else {
    j["grant"] = nullptr;
  }
  return j;
}

StatusOr<AdmissionView> LoadAdmission(const AdmissionConfig& config, const crypto::Identity& self,
                                      const std::string& grpc_listen, uint64_t now_unix_ms) {
  AdmissionView view;
  view.open = config.open;
  if (config.issuer_key_files.empty()) {
    if (!config.grant_file.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "admission.grant_file = '", config.grant_file,
          "' is set but admission.issuer_key_files is empty: the grant cannot be checked"));
    }
    return view;
  }
  if (config.swarm_id.empty()) {
    return absl::InvalidArgumentError(
        "admission.issuer_key_files is set but admission.swarm_id is empty");
  }
  view.swarm_id = config.swarm_id;
  std::vector<admission::IssuerKey> issuers;
  for (const std::string& path : config.issuer_key_files) {
    auto key = admission::LoadIssuerKey(path);
    if (!key.ok()) {
      return absl::Status(key.status().code(),
                          absl::StrCat("admission.issuer_key_files: ", key.status().message()));
    }
    issuers.push_back(*std::move(key));
  }
  view.verifier = std::make_shared<admission::GrantVerifier>(config.swarm_id, std::move(issuers));
  if (config.grant_file.empty()) return view;

  const std::string where = absl::StrCat("admission.grant_file '", config.grant_file, "': ");
  auto signed_grant = admission::LoadGrant(config.grant_file);
  if (!signed_grant.ok()) {
    return absl::Status(signed_grant.status().code(),
                        absl::StrCat("admission.grant_file: ", signed_grant.status().message()));
  }
  const Bytes bytes = admission::EncodeSignedGrant(*signed_grant);
  auto grant = view.verifier->Verify(bytes, now_unix_ms);
  if (!grant.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(where, grant.status().message()));
  }
  if (grant->subject != self.peer_id()) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, "grant field 'subject': ", Short(grant->subject), " is not this peer's id ",
        Short(self.peer_id()), " (the grant was issued for another key than node.key_file)"));
  }
  if (!grant->address.empty()) {
    auto granted = net::ParseAddress(grant->address);
    auto listen = net::ParseAddress(grpc_listen, /*allow_port_zero=*/true);
    if (granted.ok() && listen.ok() && listen->port != 0 && granted->port != listen->port) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, "grant field 'address': '", grant->address, "' is not where this peer listens (",
          "node.grpc_listen = '", grpc_listen, "'): other peers would not reach it"));
    }
  }
  view.own_grant = bytes;
  view.own = *std::move(grant);
  return view;
}

}  // namespace swarm::node
