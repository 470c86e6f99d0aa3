#include "membership/codec.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "swarm/v1/membership.pb.h"

namespace swarm::membership {
namespace {

namespace pb = ::swarm::v1;

Status Fail(std::string* reason, const char* why, std::string text) {
  if (reason) *reason = why;
  return absl::InvalidArgumentError(absl::StrCat("membership message: ", text));
}

std::string Shown(const std::string& s) {
  return absl::CHexEscape(s.size() > 40 ? s.substr(0, 40) + "..." : s);
}

pb::MemberState ToPb(MemberState s) {
  switch (s) {
    case MemberState::kAlive: return pb::MEMBER_STATE_ALIVE;
    case MemberState::kSuspect: return pb::MEMBER_STATE_SUSPECT;
    case MemberState::kDead: return pb::MEMBER_STATE_DEAD;
    case MemberState::kLeft: return pb::MEMBER_STATE_LEFT;
  }
  return pb::MEMBER_STATE_UNSPECIFIED;
}

std::optional<MemberState> FromPb(int s) {
  switch (s) {
    case pb::MEMBER_STATE_ALIVE: return MemberState::kAlive;
    case pb::MEMBER_STATE_SUSPECT: return MemberState::kSuspect;
    case pb::MEMBER_STATE_DEAD: return MemberState::kDead;
    case pb::MEMBER_STATE_LEFT: return MemberState::kLeft;
    default: return std::nullopt;
  }
}

Status CheckMetadata(const pb::MemberMetadata& m, const CodecLimits& l, size_t index, std::string* reason) {
  const std::string at = absl::StrCat("updates[", index, "].meta.");
  if (!std::isfinite(m.capacity()) || m.capacity() <= 0 || m.capacity() > l.capacity_max)
    return Fail(reason, "bad_metadata",
                absl::StrCat(at, "capacity=", m.capacity(), " is outside (0, ", l.capacity_max, "]"));
  if (m.region().size() > l.region_bytes_max)
    return Fail(reason, "bad_metadata",
                absl::StrCat(at, "region of ", m.region().size(), " bytes exceeds region_bytes_max=", l.region_bytes_max));
  if (static_cast<uint32_t>(m.roles_size()) > l.roles_max)
    return Fail(reason, "bad_metadata",
                absl::StrCat(at, "roles count ", m.roles_size(), " exceeds roles_max=", l.roles_max));
  for (int r = 0; r < m.roles_size(); ++r)
    if (m.roles(r).empty() || m.roles(r).size() > l.role_bytes_max)
      return Fail(reason, "bad_metadata",
                  absl::StrCat(at, "roles[", r, "] has ", m.roles(r).size(), " bytes (allowed 1..", l.role_bytes_max, ")"));
  if (m.address().size() > l.address_bytes_max)
    return Fail(reason, "bad_metadata",
                absl::StrCat(at, "address of ", m.address().size(), " bytes exceeds address_bytes_max=", l.address_bytes_max));
  return absl::OkStatus();
}

Status CheckName(const std::string& name, const std::string& field, std::string* reason) {
  Status st = PeerDirectory::ValidateName(name);
  if (!st.ok())
    return Fail(reason, "bad_peer_id", absl::StrCat(field, "='", Shown(name), "': ", std::string(st.message())));
  return absl::OkStatus();
}

}  // namespace

Status ValidateMetadata(const Metadata& m, const CodecLimits& limits) {
  pb::MemberMetadata p;
  p.set_capacity(m.capacity);
  p.set_region(m.region);
  for (const auto& r : m.roles) p.add_roles(r);
  p.set_address(m.address);
  return CheckMetadata(p, limits, 0, nullptr);
}

StatusOr<Bytes> RecordBytes(const Update& u, const PeerDirectory& dir, std::string_view domain) {
  if (u.member >= dir.size() || u.origin >= dir.size())
    return absl::InternalError(absl::StrCat("record: member ", u.member, " or origin ", u.origin,
                                            " is not in the peer directory"));
  Bytes out;
  auto put = [&](std::string_view s) { out.insert(out.end(), s.begin(), s.end()); };
  auto u16 = [&](size_t v) {
    out.push_back(static_cast<uint8_t>(v >> 8));
    out.push_back(static_cast<uint8_t>(v));
  };
  auto str = [&](std::string_view s) {
    const size_t n = std::min<size_t>(s.size(), 0xFFFF);
    u16(n);
    put(s.substr(0, n));
  };
  auto u32 = [&](uint32_t v) {
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
  };
  put("swarm/membership-record/v1");
  out.push_back(0);
  str(domain);
  out.push_back(static_cast<uint8_t>(u.state));
  str(dir.Name(u.member));
  u32(u.incarnation);
  str(dir.Name(u.origin));
  if (u.state == MemberState::kAlive && u.meta) {
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<uint8_t>(u.meta->hosted_version >> (8 * i)));
    uint32_t cap_bits;
    std::memcpy(&cap_bits, &u.meta->capacity, 4);
    u32(cap_bits);
    str(u.meta->region);
    str(u.meta->address);
    u16(std::min<size_t>(u.meta->roles.size(), 0xFFFF));
    for (const auto& r : u.meta->roles) str(r);
  }
  return out;
}

StatusOr<Bytes> Encode(const Message& msg, const PeerDirectory& dir) {
  auto name = [&](MemberId id) -> StatusOr<std::string> {
    if (id >= dir.size())
      return absl::InternalError(absl::StrCat("encode: member id ", id, " is not in the peer directory"));
    return dir.Name(id);
  };
  pb::MembershipMessage p;
  p.set_type(static_cast<pb::MembershipMessageType>(static_cast<int>(msg.type) + 1));
  p.set_seq(msg.seq);
  SWARM_ASSIGN_OR_RETURN(std::string target, name(msg.target));
  p.set_target(target);
  if (msg.recipient != kAnyRecipient) {
    SWARM_ASSIGN_OR_RETURN(std::string recipient, name(msg.recipient));
    p.set_recipient(recipient);
  }
  p.set_join(msg.join);
  for (const Update& u : msg.updates) {
    pb::MemberUpdate* pu = p.add_updates();
    pu->set_state(ToPb(u.state));
    SWARM_ASSIGN_OR_RETURN(std::string member, name(u.member));
    SWARM_ASSIGN_OR_RETURN(std::string origin, name(u.origin));
    pu->set_member(member);
    pu->set_origin(origin);
    pu->set_incarnation(u.incarnation);
    if (u.credential) pu->set_credential(u.credential->data(), u.credential->size());
    if (u.signature) pu->set_signature(u.signature->data(), u.signature->size());
    if (u.meta && u.state == MemberState::kAlive) {
      pb::MemberMetadata* m = pu->mutable_meta();
      m->set_capacity(u.meta->capacity);
      m->set_region(u.meta->region);
      for (const auto& r : u.meta->roles) m->add_roles(r);
      m->set_hosted_version(u.meta->hosted_version);
      m->set_address(u.meta->address);
    }
  }
  Bytes out(p.ByteSizeLong());
  if (!p.SerializeToArray(out.data(), static_cast<int>(out.size())))
    return absl::InternalError("encode: protobuf serialization failed");
  return out;
}

StatusOr<Message> Decode(ByteSpan bytes, PeerDirectory& dir, std::string* reason, const CodecLimits& limits) {
  if (bytes.size() > limits.message_bytes_max)
    return Fail(reason, "oversized",
                absl::StrCat("size ", bytes.size(), " bytes exceeds message_bytes_max=", limits.message_bytes_max));
  pb::MembershipMessage p;
  if (!p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return Fail(reason, "malformed", absl::StrCat("not a valid swarm.v1.MembershipMessage (", bytes.size(), " bytes)"));
  const int type = static_cast<int>(p.type());
  if (type < 1 || type > kMessageTypeCount)
    return Fail(reason, "bad_type", absl::StrCat("type=", type, " is not a membership message type (1..",
                                                 kMessageTypeCount, ")"));
  if (static_cast<uint32_t>(p.updates_size()) > limits.updates_max)
    return Fail(reason, "too_many_updates",
                absl::StrCat("updates count ", p.updates_size(), " exceeds updates_max=", limits.updates_max));
  // Pass 1: validate everything; nothing is interned yet.
  SWARM_RETURN_IF_ERROR(CheckName(p.target(), "target", reason));
  absl::flat_hash_set<std::string_view> fresh;  // distinct names not yet in dir
  if (!dir.Find(p.target())) fresh.insert(p.target());
  if (!p.recipient().empty()) {
    SWARM_RETURN_IF_ERROR(CheckName(p.recipient(), "recipient", reason));
    if (!dir.Find(p.recipient())) fresh.insert(p.recipient());
  }
  for (int i = 0; i < p.updates_size(); ++i) {
    const pb::MemberUpdate& u = p.updates(i);
    const std::string at = absl::StrCat("updates[", i, "]");
    if (!FromPb(u.state()))
      return Fail(reason, "bad_state", absl::StrCat(at, ".state=", static_cast<int>(u.state()), " is not 1..4"));
    SWARM_RETURN_IF_ERROR(CheckName(u.member(), at + ".member", reason));
    SWARM_RETURN_IF_ERROR(CheckName(u.origin(), at + ".origin", reason));
    if (u.incarnation() > std::numeric_limits<uint32_t>::max())
      return Fail(reason, "bad_incarnation",
                  absl::StrCat(at, ".incarnation=", u.incarnation(), " exceeds 4294967295"));
    if (u.credential().size() > limits.credential_bytes_max)
      return Fail(reason, "bad_credential", absl::StrCat(at, ".credential of ", u.credential().size(),
                                                        " bytes exceeds credential_bytes_max=",
                                                        limits.credential_bytes_max));
    if (u.signature().size() > limits.signature_bytes_max)
      return Fail(reason, "bad_signature", absl::StrCat(at, ".signature of ", u.signature().size(),
                                                       " bytes exceeds signature_bytes_max=",
                                                       limits.signature_bytes_max));
    if (u.state() == pb::MEMBER_STATE_ALIVE) {
      if (!u.has_meta()) return Fail(reason, "missing_metadata", absl::StrCat(at, ": alive update without meta"));
      SWARM_RETURN_IF_ERROR(CheckMetadata(u.meta(), limits, static_cast<size_t>(i), reason));
    }
    if (!dir.Find(u.member())) fresh.insert(u.member());
    if (!dir.Find(u.origin())) fresh.insert(u.origin());
  }
  const size_t new_names = fresh.size();
  if (dir.size() + new_names > dir.peers_max())
    return Fail(reason, "directory_full",
                absl::StrCat("would add up to ", new_names, " peer ids to a directory of ", dir.size(),
                             " (peers_max=", dir.peers_max(), ")"));
  // Pass 2: build.
  auto intern = [&](const std::string& n) -> MemberId { return dir.Intern(n).value(); };
  Message m;
  m.type = static_cast<MessageType>(type - 1);
  m.seq = p.seq();
  m.target = intern(p.target());
  m.join = p.join();
  m.recipient = p.recipient().empty() ? kAnyRecipient : intern(p.recipient());
  m.updates.reserve(static_cast<size_t>(p.updates_size()));
  for (const pb::MemberUpdate& u : p.updates()) {
    Update out;
    out.state = *FromPb(u.state());
    out.member = intern(u.member());
    out.origin = intern(u.origin());
    out.incarnation = static_cast<uint32_t>(u.incarnation());
    if (!u.credential().empty())
      out.credential = std::make_shared<const Bytes>(u.credential().begin(), u.credential().end());
    if (!u.signature().empty())
      out.signature = std::make_shared<const Bytes>(u.signature().begin(), u.signature().end());
    if (out.state == MemberState::kAlive) {
      auto meta = std::make_shared<Metadata>();
      meta->capacity = u.meta().capacity();
      meta->region = u.meta().region();
      meta->roles.assign(u.meta().roles().begin(), u.meta().roles().end());
      meta->hosted_version = u.meta().hosted_version();
      meta->address = u.meta().address();
      out.meta = std::move(meta);
    }
    m.updates.push_back(std::move(out));
  }
  return m;
}

}  // namespace swarm::membership
