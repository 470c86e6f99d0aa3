// Grant decoding and verification on arbitrary bytes: errors, never a crash.
// A body that decodes re-encodes to the same bytes (canonical); a signed grant
// that verifies is byte-for-byte the one the issuer signed (any mutation of a
// real grant is refused). Inputs that start like a real signed grant are
// mutated from one, so the checks past the framing are reached.
#include <cstddef>
#include <cstdint>

#include "admission/grant.h"

namespace {
using namespace swarm::admission;
using swarm::Bytes;
using swarm::ByteSpan;

constexpr uint64_t kNow = 1'800'000'000'000;

struct Fixture {
  swarm::crypto::Identity issuer = swarm::crypto::Identity::Generate().value();
  swarm::crypto::Identity peer = swarm::crypto::Identity::Generate().value();
  Bytes signed_bytes;
  Bytes body;
  GrantVerifier* verifier = nullptr;
};

Fixture& Fixed() {
  static Fixture* f = nullptr;
  if (f == nullptr) {
    f = new Fixture;
    Grant g;
    g.swarm_id = "fuzz";
    g.subject_scheme = f->peer.scheme();
    g.subject_public_key = f->peer.public_key();
    g.subject = f->peer.peer_id();
    g.roles = static_cast<RoleSet>(Role::kExpertHost);
    g.operator_name = "op";
    g.address = "10.0.0.1:9000";
    g.not_before_unix_ms = kNow - 1;
    g.expires_unix_ms = kNow + 1;
    const SignedGrant sg = IssueGrant(f->issuer, g).value();
    f->signed_bytes = EncodeSignedGrant(sg);
    f->body = sg.body;
    f->verifier = new GrantVerifier("fuzz", {IssuerKeyOf(f->issuer)}, 8);
  }
  return *f;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  Fixture& fx = Fixed();
  const ByteSpan in(data + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {  // raw bytes as a body
      auto g = DecodeGrant(in);
      if (g.ok()) {
        SWARM_ASSERT(EncodeGrant(*g) == Bytes(in.begin(), in.end()));
        SWARM_ASSERT(ValidateGrant(*g).ok());
      }
      break;
    }
    case 1: {  // raw bytes as a signed grant, then verified
      auto sg = DecodeSignedGrant(in);
      if (sg.ok()) SWARM_ASSERT(EncodeSignedGrant(*sg) == Bytes(in.begin(), in.end()));
      auto v = fx.verifier->Verify(in, kNow);
      if (v.ok()) SWARM_ASSERT(Bytes(in.begin(), in.end()) == fx.signed_bytes);
      break;
    }
    default: {  // a real signed grant (or its body) with input bytes written over it / cut
      const bool body_only = data[0] % 4 == 2;
      Bytes f = body_only ? fx.body : fx.signed_bytes;
      for (size_t i = 0; i + 2 < in.size(); i += 3) f[(size_t{in[i]} << 8 | in[i + 1]) % f.size()] = in[i + 2];
      if (!in.empty() && in[0] & 1) f.resize(f.size() * in[0] / 256);
      if (body_only) {
        auto g = DecodeGrant(f);
        if (g.ok()) SWARM_ASSERT(EncodeGrant(*g) == f);
        if (f == fx.body) SWARM_ASSERT(g.ok());
      } else {
        auto v = fx.verifier->Verify(f, kNow);
        SWARM_ASSERT(v.ok() == (f == fx.signed_bytes));
      }
    }
  }
  return 0;
}
