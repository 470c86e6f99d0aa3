// SimAuthority — the membership Authority of simulations: keyed hashes stand
// in for signatures and grants, so thousands of simulated peers can sign and
// verify every record at the cost of a hash.
//
// The model it enforces is the one ML-DSA and issuer-signed grants give the
// real node: member i signs with a secret derived from (run_key, i), which no
// other simulated peer uses; a credential is admitted only if the issuer (this
// object) issued it to that member; a record verifies only if its origin holds
// an issued grant and the signature is the origin's. Byzantine test code may
// sign as the Byzantine member itself (SignAs), never as another.
//
// Thread-safety: none (one simulation thread). Deterministic: no randomness.
#pragma once

#include <map>

#include "membership/types.h"

namespace swarm::membership {

class SimAuthority : public Authority {
 public:
  explicit SimAuthority(uint64_t run_key) : key_(run_key) {}

  // Issues a grant to `member` with these facts; returns its credential.
  SharedBytes Issue(MemberId member, Admission facts);
  // A credential the issuer never issued (a Sybil's self-made one).
  SharedBytes Bogus(MemberId member, uint64_t salt) const;
  bool HasGrant(MemberId member) const { return grants_.count(member) != 0; }

  // Authority: signs as record.origin.
  SharedBytes Sign(const Update& record) override { return SignAs(record.origin, record); }
  StatusOr<AdmissionPtr> Admit(MemberId member, const SharedBytes& credential) override;
  bool Verify(const Update& record) override;

  SharedBytes SignAs(MemberId author, const Update& record);
  uint64_t signatures() const { return signatures_; }
  uint64_t verifications() const { return verifications_; }
  uint64_t admissions() const { return admissions_; }

 private:
  uint64_t Digest(MemberId author, const Update& record) const;
  struct IssuedGrant {
    Bytes credential;
    AdmissionPtr facts;
  };
  uint64_t key_;
  std::map<MemberId, IssuedGrant> grants_;
  uint64_t signatures_ = 0, verifications_ = 0, admissions_ = 0;
};

}  // namespace swarm::membership
