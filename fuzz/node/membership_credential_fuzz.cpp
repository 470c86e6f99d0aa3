// Fuzz target: MembershipAuthority::Admit on arbitrary credential bytes (open
// credentials and SignedGrant encodings from peers). Any input must give a
// refusal whose message starts with a reason, or admitted facts within the
// grant limits; never an abort. Inputs whose first byte is even start from a
// valid open credential with a few input-chosen bytes changed.
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "node/membership_authority.h"

using namespace swarm;

namespace {

struct World {
  crypto::Identity self = crypto::Identity::Generate().value();
  membership::PeerDirectory dir;
  membership::MemberId member = 0;
  std::unique_ptr<node::MembershipAuthority> auth;
  membership::SharedBytes valid;
  World() {
    member = dir.Intern(node::MembershipAuthority::NameOf(self.peer_id())).value();
    auto verifier = std::make_shared<admission::GrantVerifier>("fuzz", std::vector<admission::IssuerKey>{});
    auth = std::make_unique<node::MembershipAuthority>(self, dir, node::MembershipAdmission{true, "fuzz", verifier, {}},
                                                       [] { return uint64_t{1700000000000}; });
    valid = auth->OwnCredential(2, "eu", "127.0.0.1:1").value();
  }
};

uint64_t admitted = 0, refused = 0;
struct Report {
  ~Report() { std::printf("admitted %llu, refused %llu\n", (unsigned long long)admitted, (unsigned long long)refused); }
} report;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World w;
  Bytes input(data, data + size);
  if (size > 0 && data[0] % 2 == 0) {
    input = *w.valid;
    for (size_t i = 1; i + 1 < size && i < 9; i += 2) input[data[i] % input.size()] ^= data[i + 1];
  }
  auto r = w.auth->Admit(w.member, std::make_shared<const Bytes>(std::move(input)));
  if (r.ok()) {
    SWARM_ASSERT((*r)->capacity > 0 && (*r)->capacity <= admission::kCapacityMax);
    ++admitted;
  } else {
    SWARM_ASSERT(r.status().message().find(':') != std::string::npos);
    ++refused;
  }
  return 0;
}
