#include "membership/support/sim_authority.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace swarm::membership {
namespace {

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t Str(uint64_t h, const std::string& s) {
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return Mix(h ^ s.size());
}

SharedBytes ToBytes(uint64_t a, uint64_t b) {
  Bytes out(16);
  std::memcpy(out.data(), &a, 8);
  std::memcpy(out.data() + 8, &b, 8);
  return std::make_shared<const Bytes>(std::move(out));
}

}  // namespace

SharedBytes SimAuthority::Issue(MemberId member, Admission facts) {
  SharedBytes c = ToBytes(member, Mix(key_ ^ Mix(member) ^ 0x6772616e74ULL));
  grants_[member] = IssuedGrant{*c, std::make_shared<const Admission>(std::move(facts))};
  return c;
}

SharedBytes SimAuthority::Bogus(MemberId member, uint64_t salt) const {
  return ToBytes(member, Mix(salt ^ 0x5b5b));
}

StatusOr<AdmissionPtr> SimAuthority::Admit(MemberId member, const SharedBytes& credential) {
  ++admissions_;
  auto it = grants_.find(member);
  if (!credential || it == grants_.end() || it->second.credential != *credential)
    return absl::PermissionDeniedError(
        absl::StrCat("not_admitted: member ", member, " holds no grant the issuer signed"));
  return it->second.facts;
}

uint64_t SimAuthority::Digest(MemberId author, const Update& r) const {
  uint64_t h = Mix(key_ ^ Mix(author + 1));
  h = Mix(h ^ static_cast<uint64_t>(r.state));
  h = Mix(h ^ r.member);
  h = Mix(h ^ r.incarnation);
  h = Mix(h ^ r.origin);
  if (r.state == MemberState::kAlive && r.meta) {
    uint32_t cap;
    std::memcpy(&cap, &r.meta->capacity, 4);
    h = Mix(h ^ r.meta->hosted_version ^ (static_cast<uint64_t>(cap) << 17));
    h = Str(h, r.meta->region);
    h = Str(h, r.meta->address);
    for (const auto& role : r.meta->roles) h = Str(h, role);
  }
  return h;
}

SharedBytes SimAuthority::SignAs(MemberId author, const Update& record) {
  ++signatures_;
  return ToBytes(author, Digest(author, record));
}

bool SimAuthority::Verify(const Update& record) {
  ++verifications_;
  if (!record.signature || record.signature->size() != 16 || !grants_.count(record.origin)) return false;
  uint64_t who, digest;
  std::memcpy(&who, record.signature->data(), 8);
  std::memcpy(&digest, record.signature->data() + 8, 8);
  return who == record.origin && digest == Digest(record.origin, record);
}

}  // namespace swarm::membership
