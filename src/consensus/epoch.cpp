#include "consensus/epoch.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"

namespace swarm::node {
namespace {

constexpr char kMembershipHeader[] = "swarm epoch.membership v1";
constexpr char kPlacementHeader[] = "swarm epoch.placement v1";
constexpr char kAdmissionHeader[] = "swarm epoch.admission v1";
constexpr uint8_t kEnvelopeMagic[4] = {'S', 'W', 'L', 'B'};
constexpr uint8_t kEnvelopeVersion = 1;

Status CheckField(const std::string& what, const std::string& v) {
  if (v.empty() || v.size() > kEpochFieldBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat(what, " '", v.substr(0, 64), "': length ", v.size(),
                                                   " not in 1..", kEpochFieldBytesMax));
  }
  for (char c : v) {
    if (c <= ' ' || c > '~' || c == ',') {
      return absl::InvalidArgumentError(absl::StrCat(what, " '", v.substr(0, 64), "': character ",
                                                     static_cast<int>(static_cast<uint8_t>(c)),
                                                     " (printable ASCII without spaces or commas)"));
    }
  }
  return absl::OkStatus();
}

// Splits `body` into lines; every line must end with '\n'.
StatusOr<std::vector<std::string>> Lines(ByteSpan body, const char* header) {
  if (body.size() > kEpochBodyBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat("epoch body: ", body.size(), " bytes > kEpochBodyBytesMax ",
                                                   kEpochBodyBytesMax));
  }
  std::vector<std::string> lines;
  std::string cur;
  for (uint8_t b : body) {
    if (b == '\n') {
      lines.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(static_cast<char>(b));
    }
  }
  if (!cur.empty()) return absl::InvalidArgumentError("epoch body: last line has no '\\n'");
  if (lines.empty() || lines[0] != header) {
    return absl::InvalidArgumentError(absl::StrCat("epoch body: line 1 is '", lines.empty() ? "" : lines[0].substr(0, 64),
                                                   "', expected '", header, "'"));
  }
  return lines;
}

std::pair<std::string, std::string> SplitOnce(const std::string& s, char sep) {
  const size_t p = s.find(sep);
  if (p == std::string::npos) return {s, ""};
  return {s.substr(0, p), s.substr(p + 1)};
}

void PutU32(Bytes& b, uint32_t v) {
  for (int i = 3; i >= 0; --i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
bool GetU32(ByteSpan d, size_t& pos, uint32_t& v) {
  if (d.size() - pos < 4) return false;
  v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | d[pos + i];
  pos += 4;
  return true;
}

}  // namespace

const char* EpochKindName(EpochKind k) {
  switch (k) {
    case EpochKind::kMembership: return kEpochMembershipKind;
    case EpochKind::kPlacement: return kEpochPlacementKind;
    case EpochKind::kAdmission: return kEpochAdmissionKind;
  }
  return "epoch.?";
}

std::optional<EpochKind> EpochKindOf(const std::string& record_kind) {
  if (record_kind == kEpochMembershipKind) return EpochKind::kMembership;
  if (record_kind == kEpochPlacementKind) return EpochKind::kPlacement;
  if (record_kind == kEpochAdmissionKind) return EpochKind::kAdmission;
  return std::nullopt;
}

bool IsEpochRecordKind(const std::string& record_kind) { return record_kind.rfind("epoch.", 0) == 0; }

StatusOr<Bytes> EncodeMembershipEpoch(std::vector<EpochMember> members) {
  if (members.size() > kEpochMembersMax) {
    return absl::InvalidArgumentError(absl::StrCat("epoch members: ", members.size(), " > kEpochMembersMax ",
                                                   kEpochMembersMax));
  }
  std::sort(members.begin(), members.end(),
            [](const EpochMember& a, const EpochMember& b) { return a.address < b.address; });
  std::string out = std::string(kMembershipHeader) + "\n";
  for (size_t i = 0; i < members.size(); ++i) {
    SWARM_RETURN_IF_ERROR(CheckField(absl::StrCat("member ", i, " address"), members[i].address));
    SWARM_RETURN_IF_ERROR(CheckField(absl::StrCat("member ", i, " id"), members[i].id));
    if (i > 0 && members[i].address == members[i - 1].address) {
      return absl::InvalidArgumentError(absl::StrCat("member address '", members[i].address, "' appears twice"));
    }
    absl::StrAppend(&out, members[i].address, " ", members[i].id, "\n");
  }
  if (out.size() > kEpochBodyBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat("epoch body: ", out.size(), " bytes > kEpochBodyBytesMax"));
  }
  return Bytes(out.begin(), out.end());
}

StatusOr<std::vector<EpochMember>> ParseMembershipEpoch(ByteSpan body) {
  SWARM_ASSIGN_OR_RETURN(std::vector<std::string> lines, Lines(body, kMembershipHeader));
  if (lines.size() - 1 > kEpochMembersMax) {
    return absl::InvalidArgumentError(absl::StrCat("epoch members: ", lines.size() - 1, " > kEpochMembersMax"));
  }
  std::vector<EpochMember> out;
  for (size_t i = 1; i < lines.size(); ++i) {
    auto [address, id] = SplitOnce(lines[i], ' ');
    const std::string where = absl::StrCat("membership line ", i + 1);
    SWARM_RETURN_IF_ERROR(CheckField(where + " address", address));
    SWARM_RETURN_IF_ERROR(CheckField(where + " id", id));
    if (!out.empty() && !(out.back().address < address)) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": address '", address,
                                                     "' not after '", out.back().address, "' (sorted, unique)"));
    }
    out.push_back({address, id});
  }
  return out;
}

StatusOr<Bytes> EncodePlacementEpoch(const PlacementTable& table) {
  if (table.size() > kEpochMembersMax * 16) {
    return absl::InvalidArgumentError(absl::StrCat("placement table: ", table.size(), " experts"));
  }
  std::string out = std::string(kPlacementHeader) + "\n";
  for (const auto& [expert, owners] : table) {
    if (owners.empty()) return absl::InvalidArgumentError(absl::StrCat("expert ", expert, ": no owners"));
    absl::StrAppend(&out, expert, " ");
    for (size_t i = 0; i < owners.size(); ++i) {
      SWARM_RETURN_IF_ERROR(CheckField(absl::StrCat("expert ", expert, " owner ", i), owners[i]));
      absl::StrAppend(&out, i ? "," : "", owners[i]);
    }
    out += "\n";
    if (out.size() > kEpochBodyBytesMax) {
      return absl::InvalidArgumentError(absl::StrCat("epoch body: more than kEpochBodyBytesMax ",
                                                     kEpochBodyBytesMax, " bytes"));
    }
  }
  return Bytes(out.begin(), out.end());
}

StatusOr<PlacementTable> ParsePlacementEpoch(ByteSpan body) {
  SWARM_ASSIGN_OR_RETURN(std::vector<std::string> lines, Lines(body, kPlacementHeader));
  PlacementTable out;
  int64_t last = -1;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string where = absl::StrCat("placement line ", i + 1);
    auto [num, rest] = SplitOnce(lines[i], ' ');
    // Canonical decimal: digits only, no leading zero (except "0"), fits u32.
    if (num.empty() || num.size() > 10 || (num.size() > 1 && num[0] == '0') ||
        !std::all_of(num.begin(), num.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoull(num) > UINT32_MAX) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": expert id '", num.substr(0, 16),
                                                     "' is not a canonical u32"));
    }
    const int64_t expert = static_cast<int64_t>(std::stoull(num));
    if (expert <= last) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": expert ", expert, " not after ", last));
    }
    last = expert;
    std::vector<std::string> owners;
    std::string cur;
    for (size_t p = 0; p <= rest.size(); ++p) {
      if (p == rest.size() || rest[p] == ',') {
        SWARM_RETURN_IF_ERROR(CheckField(absl::StrCat(where, " owner ", owners.size()), cur));
        owners.push_back(std::move(cur));
        cur.clear();
      } else {
        cur.push_back(rest[p]);
      }
    }
    out[static_cast<uint32_t>(expert)] = std::move(owners);
  }
  return out;
}

namespace {

// 64 lower-case hex characters -> 32 bytes.
bool ParseHash(const std::string& hex, Hash32& out) {
  if (hex.size() != 64) return false;
  for (size_t i = 0; i < 32; ++i) {
    int v = 0;
    for (size_t j = 0; j < 2; ++j) {
      const char c = hex[2 * i + j];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else return false;
    }
    out[i] = static_cast<uint8_t>(v);
  }
  return true;
}

}  // namespace

StatusOr<Bytes> EncodeAdmissionEpoch(const AdmissionEpoch& set) {
  if (set.grants.size() + set.revoked.size() > kAdmissionEntriesMax) {
    return absl::InvalidArgumentError(absl::StrCat("admission set: ", set.grants.size(), " grants + ",
                                                   set.revoked.size(), " revocations > kAdmissionEntriesMax ",
                                                   kAdmissionEntriesMax));
  }
  std::string out = std::string(kAdmissionHeader) + "\n";
  for (const auto& [sha3, subject] : set.grants) absl::StrAppend(&out, "grant ", ToHex(sha3), " ", ToHex(subject), "\n");
  for (const auto& subject : set.revoked) absl::StrAppend(&out, "revoke ", ToHex(subject), "\n");
  return Bytes(out.begin(), out.end());
}

StatusOr<AdmissionEpoch> ParseAdmissionEpoch(ByteSpan body) {
  SWARM_ASSIGN_OR_RETURN(std::vector<std::string> lines, Lines(body, kAdmissionHeader));
  if (lines.size() - 1 > kAdmissionEntriesMax) {
    return absl::InvalidArgumentError(absl::StrCat("admission set: ", lines.size() - 1,
                                                   " lines > kAdmissionEntriesMax ", kAdmissionEntriesMax));
  }
  AdmissionEpoch out;
  std::optional<Hash32> last_grant, last_revoke;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string where = absl::StrCat("admission line ", i + 1);
    auto [verb, rest] = SplitOnce(lines[i], ' ');
    if (verb == "grant") {
      if (last_revoke) return absl::InvalidArgumentError(absl::StrCat(where, ": a grant line after a revoke line"));
      auto [sha3_hex, subject_hex] = SplitOnce(rest, ' ');
      Hash32 sha3{}, subject{};
      if (!ParseHash(sha3_hex, sha3)) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": grant sha3 '", sha3_hex.substr(0, 70),
                                                       "' is not 64 lower-case hex characters"));
      }
      if (!ParseHash(subject_hex, subject)) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": subject '", subject_hex.substr(0, 70),
                                                       "' is not 64 lower-case hex characters"));
      }
      if (last_grant && !(*last_grant < sha3)) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": grant ", sha3_hex.substr(0, 16),
                                                       "... not after the previous one (ascending, unique)"));
      }
      last_grant = sha3;
      out.grants.emplace(sha3, subject);
    } else if (verb == "revoke") {
      Hash32 subject{};
      if (!ParseHash(rest, subject)) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": revoked subject '", rest.substr(0, 70),
                                                       "' is not 64 lower-case hex characters"));
      }
      if (last_revoke && !(*last_revoke < subject)) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": revoked ", rest.substr(0, 16),
                                                       "... not after the previous one (ascending, unique)"));
      }
      last_revoke = subject;
      out.revoked.insert(subject);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(where, ": '", verb.substr(0, 16),
                                                     "' is neither 'grant' nor 'revoke'"));
    }
  }
  return out;
}

Status ValidateEpochBody(EpochKind kind, ByteSpan body) {
  switch (kind) {
    case EpochKind::kMembership: return ParseMembershipEpoch(body).status();
    case EpochKind::kPlacement: return ParsePlacementEpoch(body).status();
    case EpochKind::kAdmission: return ParseAdmissionEpoch(body).status();
  }
  return absl::InvalidArgumentError("epoch: unknown kind");
}

crypto::Digest256 EpochRoot(ByteSpan body) { return crypto::Sha3_256(body); }

Status CheckEpochRecord(const EpochState& current, const store::LedgerRecord& r, ByteSpan body,
                        const EpochRules& rules) {
  const auto kind = EpochKindOf(r.kind);
  if (!kind) {
    return absl::InvalidArgumentError(absl::StrCat("epoch: unknown epoch kind '", r.kind, "' (",
                                                   kEpochMembershipKind, " | ", kEpochPlacementKind, " | ",
                                                   kEpochAdmissionKind, ")"));
  }
  if (*kind == EpochKind::kAdmission && !rules.admission_authors.contains(r.author_id)) {
    return absl::PermissionDeniedError(absl::StrCat("epoch: ", kEpochAdmissionKind, " authored by ",
                                                    ToHex(r.author_id).substr(0, 16),
                                                    ", not a trusted issuer of this swarm (",
                                                    rules.admission_authors.size(), " configured)"));
  }
  if (body.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("epoch: ", r.kind, " record carries no body"));
  }
  if (Status s = ValidateEpochBody(*kind, body); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("epoch: bad body: ", s.message()));
  }
  if (EpochRoot(body) != r.payload_root) {
    return absl::InvalidArgumentError(absl::StrCat("epoch: payload_root ", ToHex(r.payload_root).substr(0, 16),
                                                   "... is not SHA3-256 of the body"));
  }
  if (r.epoch != current.version + 1) {
    return absl::FailedPreconditionError(absl::StrCat("epoch: version ", r.epoch, " but the last committed ",
                                                      r.kind, " is ", current.version, " (expected ",
                                                      current.version + 1, ")"));
  }
  if (current.version > 0 && r.payload_root == current.root) {
    return absl::FailedPreconditionError(absl::StrCat("epoch: unchanged: payload_root equals that of ", r.kind,
                                                      " version ", current.version));
  }
  return absl::OkStatus();
}

Bytes EncodeLedgerRequest(ByteSpan record, ByteSpan body) {
  if (body.empty()) return Bytes(record.begin(), record.end());
  Bytes out(std::begin(kEnvelopeMagic), std::end(kEnvelopeMagic));
  out.push_back(kEnvelopeVersion);
  PutU32(out, static_cast<uint32_t>(record.size()));
  out.insert(out.end(), record.begin(), record.end());
  PutU32(out, static_cast<uint32_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

StatusOr<LedgerRequestParts> ParseLedgerRequest(ByteSpan payload) {
  LedgerRequestParts parts;
  if (payload.size() < 4 || !std::equal(std::begin(kEnvelopeMagic), std::end(kEnvelopeMagic), payload.begin())) {
    parts.record.assign(payload.begin(), payload.end());
    return parts;
  }
  if (payload.size() < 5 || payload[4] != kEnvelopeVersion) {
    return absl::InvalidArgumentError(absl::StrCat("request envelope: version ",
                                                   payload.size() < 5 ? -1 : payload[4], ", expected 1"));
  }
  size_t pos = 5;
  uint32_t len = 0;
  if (!GetU32(payload, pos, len) || payload.size() - pos < len) {
    return absl::InvalidArgumentError(absl::StrCat("request envelope: record length ", len, " at offset 5 truncated"));
  }
  parts.record.assign(payload.begin() + pos, payload.begin() + pos + len);
  pos += len;
  const size_t body_at = pos;
  if (!GetU32(payload, pos, len) || payload.size() - pos != len) {
    return absl::InvalidArgumentError(absl::StrCat("request envelope: body length ", len, " at offset ", body_at,
                                                   " does not match the ", payload.size() - std::min(payload.size(), pos),
                                                   " bytes left"));
  }
  if (len == 0) return absl::InvalidArgumentError("request envelope: empty body (send the bare record)");
  if (len > kEpochBodyBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat("request envelope: body ", len, " bytes > kEpochBodyBytesMax ",
                                                   kEpochBodyBytesMax));
  }
  parts.body.assign(payload.begin() + pos, payload.end());
  return parts;
}

}  // namespace swarm::node
