// Fuzz target: the membership wire decoder, then the SWIM state machine on
// whatever decodes. Any input must give a Status (with a reason) or a
// message Swim handles without aborting; a decoded message must re-encode.
// Inputs whose first byte is even are structured: the rest seeds a random valid
// message that is encoded, then corrupted at a few input-chosen bytes, so the
// decoder's validation (not only protobuf's parser) is exercised.
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "common/rng.h"
#include "membership/codec.h"
#include "membership/swim.h"

using namespace swarm;
using namespace swarm::membership;

namespace {

uint64_t accepted = 0, rejected = 0;

// Admits credential "grant" for any member and takes signature "sig" from any
// admitted origin, so that decoded updates reach the state rules too.
class FuzzAuthority : public Authority {
 public:
  SharedBytes Sign(const Update&) override { return std::make_shared<const Bytes>(Bytes{'s', 'i', 'g'}); }
  StatusOr<AdmissionPtr> Admit(MemberId, const SharedBytes& c) override {
    if (!c || *c != Bytes{'g', 'r', 'a', 'n', 't'}) return absl::PermissionDeniedError("not_admitted: fuzz");
    return std::make_shared<const Admission>();
  }
  bool Verify(const Update& r) override { return r.signature && *r.signature == Bytes{'s', 'i', 'g'}; }
};
struct Report {
  ~Report() { std::printf("decoded %llu, rejected %llu\n", (unsigned long long)accepted, (unsigned long long)rejected); }
} report;

Bytes Structured(const uint8_t* data, size_t size) {
  uint64_t seed = 0;
  for (size_t i = 0; i < size; ++i) seed = seed * 131 + data[i];
  Rng rng(seed);
  PeerDirectory dir;
  for (int i = 0; i < 8; ++i) (void)dir.Intern(i == 0 ? "self" : "p" + std::to_string(i));
  Message m;
  m.type = static_cast<MessageType>(rng.Uniform(kMessageTypeCount));
  m.seq = static_cast<uint32_t>(rng.Next());
  m.target = static_cast<MemberId>(rng.Uniform(8));
  m.join = rng.Bernoulli(0.5);
  m.recipient = rng.Bernoulli(0.8) ? 0 : static_cast<MemberId>(rng.Uniform(8));
  const auto n = rng.Uniform(12);
  for (uint64_t i = 0; i < n; ++i) {
    Update u;
    u.state = static_cast<MemberState>(rng.Uniform(4));
    u.member = static_cast<MemberId>(rng.Uniform(8));
    u.origin = static_cast<MemberId>(rng.Uniform(8));
    u.incarnation = static_cast<uint32_t>(rng.Uniform(5));
    auto meta = std::make_shared<Metadata>();
    meta->capacity = static_cast<float>(rng.UniformDouble(-1, 3));
    meta->region = std::string(rng.Uniform(80), 'r');
    meta->roles.assign(rng.Uniform(20), "role");
    u.meta = meta;
    if (rng.Bernoulli(0.7)) u.credential = std::make_shared<const Bytes>(Bytes{'g', 'r', 'a', 'n', 't'});
    if (rng.Bernoulli(0.7)) u.signature = std::make_shared<const Bytes>(Bytes{'s', 'i', 'g'});
    m.updates.push_back(u);
  }
  Bytes out = Encode(m, dir).value();
  for (size_t i = 1; i + 1 < size && i < 7 && !out.empty(); i += 2) out[data[i] % out.size()] ^= data[i + 1];
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes structured;
  ByteSpan input(data, size);
  if (size > 0 && data[0] % 2 == 0) {
    structured = Structured(data, size);
    input = structured;
  }
  PeerDirectory dir(64);
  (void)dir.Intern("self");
  std::string reason;
  auto msg = Decode(input, dir, &reason);
  if (!msg.ok()) {
    SWARM_ASSERT(!reason.empty());
    ++rejected;
    return 0;
  }
  ++accepted;
  auto again = Encode(*msg, dir);
  SWARM_ASSERT(again.ok());
  Config cfg;
  cfg.members_max = 64;
  FuzzAuthority authority;
  Swim swim(0, Metadata{}, std::make_shared<const Bytes>(Bytes{'g', 'r', 'a', 'n', 't'}), cfg, 1, &authority);
  const MemberId from = dir.size() > 1 ? 1 : 0;
  swim.OnMessage(from, *msg, 1000);
  swim.OnTick(Seconds(100));
  (void)swim.TakeOutbox();
  return 0;
}
