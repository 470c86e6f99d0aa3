#include "node/membership_authority.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "crypto/hash.h"
#include "membership/codec.h"

namespace swarm::node {
namespace {

constexpr char kOpenMagic[] = "swarm/open-member/v1";
constexpr size_t kOpenMagicBytes = sizeof(kOpenMagic);  // with the 0x00

void PutStr(Bytes& out, std::string_view s) {
  const size_t n = std::min<size_t>(s.size(), 0xFFFF);
  out.push_back(static_cast<uint8_t>(n >> 8));
  out.push_back(static_cast<uint8_t>(n));
  out.insert(out.end(), s.begin(), s.begin() + static_cast<long>(n));
}

struct OpenCredential {
  crypto::SignatureScheme scheme;
  Bytes key;
  float capacity;
  std::string region, address;
};

bool IsOpen(ByteSpan c) {
  return c.size() >= kOpenMagicBytes && std::memcmp(c.data(), kOpenMagic, kOpenMagicBytes) == 0;
}

StatusOr<OpenCredential> ParseOpen(ByteSpan c) {
  size_t at = kOpenMagicBytes;
  auto bad = [](const char* field) {
    return absl::PermissionDeniedError(absl::StrCat("not_admitted: open credential: bad ", field));
  };
  auto str = [&](std::string* out) -> bool {
    if (at + 2 > c.size()) return false;
    const size_t n = (static_cast<size_t>(c[at]) << 8) | c[at + 1];
    at += 2;
    if (at + n > c.size()) return false;
    out->assign(reinterpret_cast<const char*>(c.data() + at), n);
    at += n;
    return true;
  };
  OpenCredential o;
  if (at >= c.size()) return bad("scheme");
  auto scheme = crypto::SchemeFromId(c[at++]);
  if (!scheme.ok()) return bad("scheme");
  o.scheme = *scheme;
  std::string key;
  if (!str(&key) || key.size() != crypto::SchemeSizesOf(o.scheme).public_key) return bad("public_key");
  o.key.assign(key.begin(), key.end());
  if (at + 4 > c.size()) return bad("capacity");
  std::memcpy(&o.capacity, c.data() + at, 4);
  at += 4;
  if (!std::isfinite(o.capacity) || o.capacity <= 0 || o.capacity > admission::kCapacityMax) return bad("capacity");
  if (!str(&o.region) || o.region.size() > admission::kRegionBytesMax) return bad("region");
  if (!str(&o.address) || o.address.size() > admission::kAddressBytesMax) return bad("address");
  if (at != c.size()) return bad("length");
  return o;
}

}  // namespace

MembershipAuthority::MembershipAuthority(const crypto::Identity& identity, const membership::PeerDirectory& dir,
                                         MembershipAdmission admission, std::function<uint64_t()> now_unix_ms)
    : identity_(identity), dir_(dir), admission_(std::move(admission)), now_unix_ms_(std::move(now_unix_ms)) {}

StatusOr<membership::SharedBytes> MembershipAuthority::OwnCredential(float capacity, const std::string& region,
                                                                     const std::string& address) const {
  if (!admission_.own_grant.empty()) return std::make_shared<const Bytes>(admission_.own_grant);
  if (!admission_.open)
    return absl::FailedPreconditionError(
        "membership: this peer has no grant (admission.grant_file) and the swarm is not open (admission.open)");
  Bytes c(kOpenMagic, kOpenMagic + kOpenMagicBytes);
  c.push_back(static_cast<uint8_t>(identity_.scheme()));
  const Bytes& key = identity_.public_key();
  PutStr(c, std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
  const float cap = std::clamp(capacity, 1e-3f, admission::kCapacityMax);
  uint8_t bits[4];
  std::memcpy(bits, &cap, 4);
  c.insert(c.end(), bits, bits + 4);
  PutStr(c, region);
  PutStr(c, address);
  return std::make_shared<const Bytes>(std::move(c));
}

StatusOr<Bytes> MembershipAuthority::SignedBytes(const membership::Update& r) const {
  SWARM_ASSIGN_OR_RETURN(Bytes b, membership::RecordBytes(r, dir_, admission_.swarm_id));
  if ((r.state == membership::MemberState::kAlive || r.state == membership::MemberState::kLeft) && r.credential)
    b.insert(b.end(), r.credential->begin(), r.credential->end());
  return b;
}

membership::SharedBytes MembershipAuthority::Sign(const membership::Update& record) {
  auto bytes = SignedBytes(record);
  if (!bytes.ok()) return nullptr;
  auto sig = identity_.Sign(*bytes);
  if (!sig.ok()) return nullptr;
  return std::make_shared<const Bytes>(std::move(*sig));
}

StatusOr<membership::AdmissionPtr> MembershipAuthority::Admit(membership::MemberId member,
                                                             const membership::SharedBytes& credential) {
  if (member >= dir_.size()) return absl::PermissionDeniedError("not_admitted: unknown member index");
  if (!credential || credential->empty()) return absl::PermissionDeniedError("not_admitted: no credential");
  const std::string& name = dir_.Name(member);
  auto facts = std::make_shared<membership::Admission>();
  crypto::SignatureScheme scheme;
  Bytes key;
  if (IsOpen(*credential)) {
    if (!admission_.open)
      return absl::PermissionDeniedError(
          absl::StrCat("not_admitted: member ", name.substr(0, 16), " has no grant and the swarm is not open"));
    SWARM_ASSIGN_OR_RETURN(OpenCredential o, ParseOpen(*credential));
    if (NameOf(crypto::PeerIdOf(o.scheme, o.key)) != name)
      return absl::PermissionDeniedError(
          absl::StrCat("not_admitted: open credential key is not member ", name.substr(0, 16)));
    scheme = o.scheme;
    key = std::move(o.key);
    facts->capacity = o.capacity;
    facts->region = o.region;
    facts->address = o.address;
    facts->roles = admission::kAllRolesMask;
  } else {
    if (!admission_.verifier)
      return absl::PermissionDeniedError("not_admitted: no grant issuer is configured (admission.issuer_key_files)");
    SWARM_ASSIGN_OR_RETURN(admission::Grant g, admission_.verifier->Verify(*credential, now_unix_ms_()));
    if (NameOf(g.subject) != name)
      return absl::PermissionDeniedError(absl::StrCat("not_admitted: grant subject ", ToHex(ByteSpan(g.subject)).substr(0, 16),
                                                      " is not member ", name.substr(0, 16)));
    scheme = g.subject_scheme;
    key = std::move(g.subject_public_key);
    facts->capacity = g.capacity;
    facts->region = g.region;
    facts->operator_name = g.operator_name;
    facts->address = g.address;
    facts->roles = g.roles;
    facts->not_before_unix_ms = g.not_before_unix_ms;
    facts->expires_unix_ms = g.expires_unix_ms;
    facts->grant_sha3 = crypto::Sha3_256(*credential);
  }
  auto prepared = crypto::PreparedVerifier::Create(scheme, key);
  if (!prepared.ok()) return absl::PermissionDeniedError(absl::StrCat("not_admitted: ", prepared.status().message()));
  keys_.insert_or_assign(member, std::move(*prepared));
  return membership::AdmissionPtr(std::move(facts));
}

bool MembershipAuthority::Verify(const membership::Update& record) {
  if (!record.signature) return false;
  auto it = keys_.find(record.origin);
  if (it == keys_.end()) return false;
  auto bytes = SignedBytes(record);
  if (!bytes.ok()) return false;
  return it->second.Verify(*bytes, *record.signature).ok();
}

}  // namespace swarm::node
