#include "admission/grant.h"

#include <bit>
#include <cmath>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "crypto/hash.h"

namespace swarm::admission {
namespace {

constexpr char kSignedMagic[4] = {'S', 'W', 'G', 'R'};
constexpr uint8_t kSignedVersion = 1;
constexpr uint8_t kGrantVersion = 1;

struct RoleEntry {
  Role role;
  const char* name;
};
constexpr RoleEntry kRoles[] = {
    {Role::kTrainer, "trainer"},       {Role::kExpertHost, "expert_host"},
    {Role::kAggregator, "aggregator"}, {Role::kCommittee, "committee"},
    {Role::kEvaluator, "evaluator"},   {Role::kIsland, "island"},
    {Role::kJobsWorker, "jobs_worker"}, {Role::kQueen, "queen"},
    {Role::kClient, "client"},         {Role::kObserver, "observer"},
};

std::string AllRoleNames() {
  std::vector<std::string> names;
  for (const auto& r : kRoles) names.push_back(r.name);
  return absl::StrJoin(names, ", ");
}

Status FieldError(absl::string_view field, absl::string_view value, absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("grant field '", field, "': ", value, " ", problem));
}

// Shows a string from untrusted input: quoted, non-printable bytes as \xNN,
// cut after 80 characters.
std::string Quote(absl::string_view s) {
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < 80; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\'') {
      out.push_back(static_cast<char>(c));
    } else {
      out += absl::StrCat("\\x", absl::Hex(c, absl::kZeroPad2));
    }
  }
  if (s.size() > 80) out += "...";
  out += "'";
  return out;
}

std::string ShortHex(ByteSpan b) { return ToHex(b.first(std::min<size_t>(b.size(), 8))); }

void PutU8(Bytes& b, uint8_t v) { b.push_back(v); }
void PutU16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void PutU32(Bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}
void PutU64(Bytes& b, uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}
void PutRaw(Bytes& b, ByteSpan s) { b.insert(b.end(), s.begin(), s.end()); }
// Length-prefixed; the encoder writes what it is given (ValidateGrant bounds it),
// truncating only a length that would not fit its prefix.
void PutSized(Bytes& b, ByteSpan s, int len_bytes) {
  const size_t max = len_bytes == 1 ? 0xff : len_bytes == 2 ? 0xffff : 0xffffffffu;
  const size_t n = std::min(s.size(), max);
  if (len_bytes == 1) PutU8(b, static_cast<uint8_t>(n));
  if (len_bytes == 2) PutU16(b, static_cast<uint16_t>(n));
  if (len_bytes == 4) PutU32(b, static_cast<uint32_t>(n));
  PutRaw(b, s.first(n));
}

// Bounds-checked big-endian reader; errors name the field and the offset.
class Reader {
 public:
  Reader(ByteSpan b, absl::string_view what) : b_(b), what_(what) {}
  Status Need(absl::string_view field, size_t n) const {
    if (b_.size() - pos_ >= n) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(what_, " truncated in field '", field,
                                                   "' at offset ", pos_, ": need ", n,
                                                   " bytes, have ", b_.size() - pos_));
  }
  StatusOr<uint64_t> Uint(absl::string_view field, int bytes) {
    SWARM_RETURN_IF_ERROR(Need(field, static_cast<size_t>(bytes)));
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = v << 8 | b_[pos_++];
    return v;
  }
  StatusOr<ByteSpan> Take(absl::string_view field, size_t n) {
    SWARM_RETURN_IF_ERROR(Need(field, n));
    ByteSpan s = b_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  // A length prefix of `len_bytes` checked against `max` (before reading), then the bytes.
  StatusOr<ByteSpan> Sized(absl::string_view field, int len_bytes, size_t max) {
    SWARM_ASSIGN_OR_RETURN(uint64_t len, Uint(field, len_bytes));
    if (len > max) {
      return absl::InvalidArgumentError(absl::StrCat(what_, " field '", field, "': length ", len,
                                                     " exceeds the limit ", max));
    }
    return Take(field, static_cast<size_t>(len));
  }
  size_t remaining() const { return b_.size() - pos_; }
  size_t pos() const { return pos_; }

 private:
  ByteSpan b_;
  absl::string_view what_;
  size_t pos_ = 0;
};

std::string AsString(ByteSpan s) { return std::string(s.begin(), s.end()); }

// Printable ASCII; `allow_space` admits 0x20; `allow_empty` admits "".
Status CheckText(absl::string_view field, const std::string& s, size_t max, bool allow_empty,
                 bool allow_space) {
  if (s.empty() && !allow_empty) return FieldError(field, "''", "is empty");
  if (s.size() > max) {
    return FieldError(field, Quote(s), absl::StrCat("is ", s.size(), " bytes; at most ", max));
  }
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const bool ok = (c > 0x20 && c < 0x7f) || (allow_space && c == 0x20);
    if (!ok) {
      return FieldError(field, Quote(s),
                        absl::StrCat("has byte 0x", absl::Hex(c, absl::kZeroPad2),
                                     " at position ", i, " (printable ASCII",
                                     allow_space ? "" : " without spaces", " only)"));
    }
  }
  return absl::OkStatus();
}

Status CheckAddress(const std::string& a) {
  SWARM_RETURN_IF_ERROR(CheckText("address", a, kAddressBytesMax, /*allow_empty=*/true,
                                  /*allow_space=*/false));
  if (a.empty()) return absl::OkStatus();
  const size_t colon = a.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return FieldError("address", Quote(a), "is not host:port");
  }
  const std::string port = a.substr(colon + 1);
  uint32_t p = 0;
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      !absl::SimpleAtoi(port, &p) || p == 0 || p > 65535) {
    return FieldError("address", Quote(a), "has no port in 1..65535 after the last ':'");
  }
  return absl::OkStatus();
}

std::string FormatUnixMs(uint64_t ms) {
  if (ms > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return absl::StrCat(ms, " ms");
  return absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ",
                                       absl::FromUnixMillis(static_cast<int64_t>(ms)),
                                       absl::UTCTimeZone()),
                      " (", ms, " ms)");
}

}  // namespace

std::string RoleName(Role role) {
  for (const auto& r : kRoles) {
    if (r.role == role) return r.name;
  }
  return absl::StrCat("role_0x", absl::Hex(static_cast<uint32_t>(role)));
}

StatusOr<Role> RoleFromName(std::string_view name_in) {
  const absl::string_view name(name_in.data(), name_in.size());
  const std::string n = absl::AsciiStrToLower(absl::StripAsciiWhitespace(name));
  for (const auto& r : kRoles) {
    if (n == r.name) return r.role;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown role ", Quote(name), "; roles are: ", AllRoleNames()));
}

std::string RoleSetNames(RoleSet roles) {
  std::vector<std::string> names;
  for (const auto& r : kRoles) {
    if (HasRole(roles, r.role)) names.push_back(r.name);
  }
  const RoleSet unknown = roles & ~kAllRolesMask;
  if (unknown != 0) names.push_back(absl::StrCat("unknown_0x", absl::Hex(unknown)));
  return absl::StrJoin(names, ",");
}

StatusOr<RoleSet> RoleSetFromNames(std::string_view in) {
  const absl::string_view comma_separated(in.data(), in.size());
  RoleSet set = 0;
  for (absl::string_view part : absl::StrSplit(comma_separated, ',')) {
    if (absl::StripAsciiWhitespace(part).empty()) continue;
    SWARM_ASSIGN_OR_RETURN(Role r, RoleFromName(std::string_view(part.data(), part.size())));
    set |= static_cast<RoleSet>(r);
  }
  if (set == 0) {
    return absl::InvalidArgumentError(absl::StrCat("role list ", Quote(comma_separated),
                                                   " names no role; roles are: ", AllRoleNames()));
  }
  return set;
}

Status ValidateGrant(const Grant& g) {
  if (g.version != kGrantVersion) {
    return FieldError("version", absl::StrCat(g.version), absl::StrCat("is not supported (only ", kGrantVersion, ")"));
  }
  SWARM_RETURN_IF_ERROR(CheckText("swarm_id", g.swarm_id, kSwarmIdBytesMax, false, false));
  auto scheme = crypto::SchemeFromId(static_cast<uint8_t>(g.subject_scheme));
  if (!scheme.ok()) {
    return FieldError("subject_scheme", absl::StrCat(static_cast<int>(g.subject_scheme)),
                      "is not a signature scheme (1=ml-dsa-65 2=ml-dsa-87 3=hybrid)");
  }
  const size_t want = crypto::SchemeSizesOf(*scheme).public_key;
  if (g.subject_public_key.size() != want) {
    return FieldError("subject_public_key", absl::StrCat(g.subject_public_key.size(), " bytes"),
                      absl::StrCat("is the wrong length for ", crypto::SchemeName(*scheme),
                                   " (", want, " bytes)"));
  }
  const crypto::PeerIdBytes id = crypto::PeerIdOf(*scheme, g.subject_public_key);
  if (id != g.subject) {
    return FieldError("subject", ShortHex(g.subject),
                      absl::StrCat("is not the peer id of subject_public_key (", ShortHex(id), ")"));
  }
  if (g.roles == 0) return FieldError("roles", "0", "grants no role");
  if ((g.roles & ~kAllRolesMask) != 0) {
    return FieldError("roles", absl::StrCat("0x", absl::Hex(g.roles)),
                      absl::StrCat("has unknown role bits 0x", absl::Hex(g.roles & ~kAllRolesMask),
                                   "; roles are: ", AllRoleNames()));
  }
  if (!std::isfinite(g.capacity) || !(g.capacity > 0.0f) || g.capacity > kCapacityMax) {
    return FieldError("capacity", absl::StrCat(g.capacity),
                      absl::StrCat("is outside (0, ", kCapacityMax, "]"));
  }
  SWARM_RETURN_IF_ERROR(CheckText("operator", g.operator_name, kOperatorBytesMax, false, true));
  SWARM_RETURN_IF_ERROR(CheckText("region", g.region, kRegionBytesMax, true, true));
  SWARM_RETURN_IF_ERROR(CheckAddress(g.address));
  if (g.expires_unix_ms <= g.not_before_unix_ms) {
    return FieldError("expires", absl::StrCat(g.expires_unix_ms),
                      absl::StrCat("is not after not_before (", g.not_before_unix_ms, ")"));
  }
  return absl::OkStatus();
}

Bytes EncodeGrant(const Grant& g) {
  Bytes b;
  b.reserve(128 + g.subject_public_key.size() + g.address.size());
  PutU8(b, g.version);
  PutSized(b, AsBytes(g.swarm_id), 1);
  PutRaw(b, g.issuer);
  PutU8(b, static_cast<uint8_t>(g.subject_scheme));
  PutSized(b, g.subject_public_key, 2);
  PutRaw(b, g.subject);
  PutU32(b, g.roles);
  PutU32(b, std::bit_cast<uint32_t>(g.capacity));
  PutSized(b, AsBytes(g.operator_name), 1);
  PutSized(b, AsBytes(g.region), 1);
  PutSized(b, AsBytes(g.address), 2);
  PutU64(b, g.not_before_unix_ms);
  PutU64(b, g.expires_unix_ms);
  PutU64(b, g.serial);
  return b;
}

StatusOr<Grant> DecodeGrant(ByteSpan body) {
  if (body.size() > kGrantBytesMax) {
    return FieldError("body", absl::StrCat(body.size(), " bytes"),
                      absl::StrCat("exceeds the limit ", kGrantBytesMax));
  }
  Reader r(body, "grant");
  Grant g;
  SWARM_ASSIGN_OR_RETURN(uint64_t version, r.Uint("version", 1));
  if (version != kGrantVersion) {
    return FieldError("version", absl::StrCat(version), absl::StrCat("is not supported (only ", kGrantVersion, ")"));
  }
  g.version = static_cast<uint8_t>(version);
  SWARM_ASSIGN_OR_RETURN(ByteSpan swarm, r.Sized("swarm_id", 1, kSwarmIdBytesMax));
  g.swarm_id = AsString(swarm);
  SWARM_ASSIGN_OR_RETURN(ByteSpan issuer, r.Take("issuer", 32));
  std::memcpy(g.issuer.data(), issuer.data(), 32);
  SWARM_ASSIGN_OR_RETURN(uint64_t scheme, r.Uint("subject_scheme", 1));
  g.subject_scheme = static_cast<crypto::SignatureScheme>(scheme);
  if (!crypto::SchemeFromId(static_cast<uint8_t>(scheme)).ok()) {
    return FieldError("subject_scheme", absl::StrCat(scheme),
                      "is not a signature scheme (1=ml-dsa-65 2=ml-dsa-87 3=hybrid)");
  }
  SWARM_ASSIGN_OR_RETURN(ByteSpan pk, r.Sized("subject_public_key", 2, 0xffff));
  g.subject_public_key.assign(pk.begin(), pk.end());
  SWARM_ASSIGN_OR_RETURN(ByteSpan subject, r.Take("subject", 32));
  std::memcpy(g.subject.data(), subject.data(), 32);
  SWARM_ASSIGN_OR_RETURN(uint64_t roles, r.Uint("roles", 4));
  g.roles = static_cast<RoleSet>(roles);
  SWARM_ASSIGN_OR_RETURN(uint64_t cap_bits, r.Uint("capacity", 4));
  g.capacity = std::bit_cast<float>(static_cast<uint32_t>(cap_bits));
  SWARM_ASSIGN_OR_RETURN(ByteSpan op, r.Sized("operator", 1, kOperatorBytesMax));
  g.operator_name = AsString(op);
  SWARM_ASSIGN_OR_RETURN(ByteSpan region, r.Sized("region", 1, kRegionBytesMax));
  g.region = AsString(region);
  SWARM_ASSIGN_OR_RETURN(ByteSpan address, r.Sized("address", 2, kAddressBytesMax));
  g.address = AsString(address);
  SWARM_ASSIGN_OR_RETURN(g.not_before_unix_ms, r.Uint("not_before", 8));
  SWARM_ASSIGN_OR_RETURN(g.expires_unix_ms, r.Uint("expires", 8));
  SWARM_ASSIGN_OR_RETURN(g.serial, r.Uint("serial", 8));
  if (r.remaining() != 0) {
    return FieldError("body", absl::StrCat(r.remaining(), " trailing bytes"),
                      absl::StrCat("after the last field (offset ", r.pos(), ")"));
  }
  SWARM_RETURN_IF_ERROR(ValidateGrant(g));
  return g;
}

Bytes EncodeSignedGrant(const SignedGrant& sg) {
  Bytes b;
  b.reserve(11 + sg.body.size() + sg.signature.size());
  PutRaw(b, AsBytes(std::string_view(kSignedMagic, 4)));
  PutU8(b, kSignedVersion);
  PutSized(b, sg.body, 4);
  PutSized(b, sg.signature, 2);
  return b;
}

StatusOr<SignedGrant> DecodeSignedGrant(ByteSpan bytes) {
  if (bytes.size() > kGrantBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat("signed grant is ", bytes.size(),
                                                   " bytes; at most ", kGrantBytesMax));
  }
  Reader r(bytes, "signed grant");
  SWARM_ASSIGN_OR_RETURN(ByteSpan magic, r.Take("magic", 4));
  if (std::memcmp(magic.data(), kSignedMagic, 4) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "signed grant field 'magic': ", Quote(AsString(magic)), " is not 'SWGR' (not a grant)"));
  }
  SWARM_ASSIGN_OR_RETURN(uint64_t version, r.Uint("version", 1));
  if (version != kSignedVersion) {
    return absl::InvalidArgumentError(absl::StrCat("signed grant field 'version': ", version,
                                                   " is not supported (only ", kSignedVersion, ")"));
  }
  SignedGrant sg;
  SWARM_ASSIGN_OR_RETURN(ByteSpan body, r.Sized("body", 4, kGrantBytesMax));
  sg.body.assign(body.begin(), body.end());
  SWARM_ASSIGN_OR_RETURN(ByteSpan sig, r.Sized("signature", 2, kGrantSignatureBytesMax));
  if (sig.empty()) {
    return absl::InvalidArgumentError("signed grant field 'signature': is empty");
  }
  sg.signature.assign(sig.begin(), sig.end());
  if (r.remaining() != 0) {
    return absl::InvalidArgumentError(absl::StrCat("signed grant has ", r.remaining(),
                                                   " trailing bytes after the signature"));
  }
  return sg;
}

Bytes GrantSigningMessage(ByteSpan body) {
  Bytes m;
  m.reserve(kGrantSignatureDomain.size() + 1 + body.size());
  PutRaw(m, AsBytes(kGrantSignatureDomain));
  m.push_back(0);
  PutRaw(m, body);
  return m;
}

void SetSubject(Grant& grant, crypto::SignatureScheme scheme, ByteSpan public_key) {
  grant.subject_scheme = scheme;
  grant.subject_public_key.assign(public_key.begin(), public_key.end());
  grant.subject = crypto::PeerIdOf(scheme, public_key);
}

StatusOr<SignedGrant> IssueGrant(const crypto::Identity& issuer, Grant grant) {
  grant.issuer = issuer.peer_id();
  SWARM_RETURN_IF_ERROR(ValidateGrant(grant));
  SignedGrant sg;
  sg.body = EncodeGrant(grant);
  if (sg.body.size() > kGrantBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat("grant body is ", sg.body.size(),
                                                   " bytes; at most ", kGrantBytesMax));
  }
  SWARM_ASSIGN_OR_RETURN(sg.signature, issuer.Sign(GrantSigningMessage(sg.body)));
  return sg;
}

std::string DescribeGrant(const Grant& g) {
  return absl::StrCat(
      "swarm:      ", g.swarm_id, "\n",
      "subject:    ", ShortHex(g.subject), " (", crypto::SchemeName(g.subject_scheme), ")\n",
      "issuer:     ", ShortHex(g.issuer), "\n",
      "roles:      ", RoleSetNames(g.roles), "\n",
      "capacity:   ", g.capacity, "\n",
      "operator:   ", g.operator_name, "\n",
      "region:     ", g.region.empty() ? "(none)" : g.region, "\n",
      "address:    ", g.address.empty() ? "(any)" : g.address, "\n",
      "not before: ", FormatUnixMs(g.not_before_unix_ms), "\n",
      "expires:    ", FormatUnixMs(g.expires_unix_ms), "\n",
      "serial:     ", g.serial, "\n");
}

// ---- issuer keys ----

IssuerKey IssuerKeyOf(const crypto::Identity& issuer) {
  IssuerKey k;
  k.scheme = issuer.scheme();
  k.public_key = issuer.public_key();
  k.id = issuer.peer_id();
  return k;
}

std::string FormatIssuerKey(const IssuerKey& key) {
  return absl::StrCat("swarm-pubkey/v1 ", crypto::SchemeName(key.scheme), " ",
                      ToHex(key.public_key), "\n");
}

StatusOr<IssuerKey> ParseIssuerKey(std::string_view text_in, const std::string& source) {
  const absl::string_view text(text_in.data(), text_in.size());
  auto err = [&](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("public key file '", source, "': ", what));
  };
  if (text.size() > 3 * crypto::kKeyFileBytesMax) return err("too large to be a public key file");
  std::vector<absl::string_view> parts =
      absl::StrSplit(absl::StripAsciiWhitespace(text), ' ', absl::SkipEmpty());
  if (parts.size() != 3) {
    return err(absl::StrCat("expected one line 'swarm-pubkey/v1 <scheme> <hex key>', got ",
                            parts.size(), " words"));
  }
  if (parts[0] != "swarm-pubkey/v1") {
    return err(absl::StrCat("field 'format': ", Quote(parts[0]), " is not 'swarm-pubkey/v1'"));
  }
  auto scheme = crypto::SchemeFromName(std::string_view(parts[1].data(), parts[1].size()));
  if (!scheme.ok()) return err(absl::StrCat("field 'scheme': ", scheme.status().message()));
  auto pk = FromHex(std::string_view(parts[2].data(), parts[2].size()));
  if (!pk.ok()) return err(absl::StrCat("field 'public_key': ", pk.status().message()));
  const size_t want = crypto::SchemeSizesOf(*scheme).public_key;
  if (pk->size() != want) {
    return err(absl::StrCat("field 'public_key': ", pk->size(), " bytes is the wrong length for ",
                            crypto::SchemeName(*scheme), " (", want, " bytes)"));
  }
  IssuerKey k;
  k.scheme = *scheme;
  k.public_key = std::move(*pk);
  k.id = crypto::PeerIdOf(k.scheme, k.public_key);
  return k;
}

// ---- verifier ----

GrantVerifier::GrantVerifier(std::string swarm_id, std::vector<IssuerKey> trusted_issuers,
                             size_t cache_entries_max)
    : swarm_id_(std::move(swarm_id)),
      issuers_(std::move(trusted_issuers)),
      cache_entries_max_(std::max<size_t>(1, cache_entries_max)) {}

StatusOr<Grant> GrantVerifier::Verify(ByteSpan bytes, uint64_t now_unix_ms) {
  auto refuse = [](absl::string_view reason, absl::string_view why) {
    return absl::PermissionDeniedError(absl::StrCat(reason, ": ", why));
  };
  if (bytes.size() > kGrantBytesMax) {
    return refuse("not_admitted", absl::StrCat("grant is ", bytes.size(), " bytes; at most ",
                                               kGrantBytesMax));
  }
  const crypto::Digest256 key = crypto::Sha3_256(bytes);
  std::optional<Grant> grant;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) grant = it->second;
  }
  if (!grant) {
    auto sg = DecodeSignedGrant(bytes);
    if (!sg.ok()) return refuse("not_admitted", sg.status().message());
    auto g = DecodeGrant(sg->body);
    if (!g.ok()) return refuse("not_admitted", g.status().message());
    if (g->swarm_id != swarm_id_) {
      return refuse("not_admitted", absl::StrCat("grant field 'swarm_id': ", Quote(g->swarm_id),
                                                 " is not this swarm (", Quote(swarm_id_), ")"));
    }
    const IssuerKey* issuer = nullptr;
    for (const auto& k : issuers_) {
      if (k.id == g->issuer) issuer = &k;
    }
    if (issuer == nullptr) {
      return refuse("not_admitted",
                    absl::StrCat("grant field 'issuer': ", ShortHex(g->issuer),
                                 " is not a trusted issuer of swarm ", Quote(swarm_id_)));
    }
    const Status sig = crypto::VerifySignature(issuer->scheme, issuer->public_key,
                                               GrantSigningMessage(sg->body), sg->signature);
    if (!sig.ok()) {
      return refuse("not_admitted", absl::StrCat("grant field 'signature': does not verify against "
                                                 "issuer ", ShortHex(g->issuer), " (",
                                                 sig.message(), ")"));
    }
    grant = std::move(*g);
    std::lock_guard<std::mutex> lock(mu_);
    if (cache_.size() >= cache_entries_max_ && !cache_.contains(key)) cache_.erase(cache_.begin());
    cache_.emplace(key, *grant);
  }
  if (now_unix_ms < grant->not_before_unix_ms) {
    return refuse("expired", absl::StrCat("grant of ", ShortHex(grant->subject),
                                          " is not valid before ",
                                          FormatUnixMs(grant->not_before_unix_ms), "; now is ",
                                          FormatUnixMs(now_unix_ms)));
  }
  if (now_unix_ms >= grant->expires_unix_ms) {
    return refuse("expired", absl::StrCat("grant of ", ShortHex(grant->subject), " expired at ",
                                          FormatUnixMs(grant->expires_unix_ms), "; now is ",
                                          FormatUnixMs(now_unix_ms)));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = excluded_.find(grant->subject);
    if (it != excluded_.end()) {
      return refuse("excluded", absl::StrCat("peer ", ShortHex(grant->subject),
                                             " was excluded: ", it->second));
    }
    if (committed_) {
      if (committed_->revoked.contains(grant->subject)) {
        return refuse("excluded", absl::StrCat("peer ", ShortHex(grant->subject), " was revoked by epoch.admission version ",
                                               committed_->version, " (ledger index ", committed_->index, ")"));
      }
      if (!committed_->grants.contains(key)) {
        return refuse("not_admitted", absl::StrCat("grant of ", ShortHex(grant->subject), " (sha3 ",
                                                   ToHex(ByteSpan(key)).substr(0, 16),
                                                   ") is not in the committed admission set (epoch.admission version ",
                                                   committed_->version, ")"));
      }
    }
  }
  return *std::move(grant);
}

bool GrantVerifier::SetCommitted(CommittedGrants committed) {
  std::lock_guard<std::mutex> lock(mu_);
  if (committed_ && committed.version <= committed_->version) return false;
  committed_ = std::move(committed);
  return true;
}

std::optional<CommittedGrants> GrantVerifier::committed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return committed_;
}

std::string GrantVerifier::CommittedRefusal(const std::array<uint8_t, 32>& grant_sha3,
                                            const crypto::PeerIdBytes* subject) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!committed_) return "";
  if (subject != nullptr && committed_->revoked.contains(*subject)) return "revoked";
  if (!committed_->grants.contains(grant_sha3)) return "not_committed";
  return "";
}

void GrantVerifier::Exclude(const crypto::PeerIdBytes& peer, std::string reason) {
  std::lock_guard<std::mutex> lock(mu_);
  excluded_[peer] = std::move(reason);
}

bool GrantVerifier::IsExcluded(const crypto::PeerIdBytes& peer) const {
  std::lock_guard<std::mutex> lock(mu_);
  return excluded_.contains(peer);
}

size_t GrantVerifier::cached_grants() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cache_.size();
}

}  // namespace swarm::admission
