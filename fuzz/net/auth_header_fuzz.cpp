// The signed request header and reply trailer decoders (net/call_auth.h) read
// peer bytes: any byte string is rejected cleanly or decodes to a header that
// re-encodes to the same bytes. Besides the raw input, a valid signed header
// mutated by the input (xor at input-chosen offsets, truncation) is decoded, so
// the fields past the first length prefix are reached too.
#include <cstdint>

#include "net/call_auth.h"

namespace {

void Check(swarm::ByteSpan in) {
  auto h = swarm::net::DecodeRequestAuth(in);
  if (h.ok()) {
    if (swarm::net::EncodeRequestAuth(*h) != swarm::Bytes(in.begin(), in.end())) __builtin_trap();
    (void)swarm::net::VerifyRequestAuthSignature(*h);
  }
  auto r = swarm::net::DecodeReplyAuth(in);
  if (r.ok() && swarm::net::EncodeReplyAuth(*r) != swarm::Bytes(in.begin(), in.end())) __builtin_trap();
}

const swarm::Bytes& ValidHeader() {
  static const swarm::Bytes* wire = [] {
    static auto* id = new swarm::crypto::Identity(*swarm::crypto::Identity::Generate());
    swarm::net::RequestAuth a;
    a.method = "/swarm.v1.ExpertService/Backward";
    a.unix_ms = 1;
    a.tls_cert_sha256 = swarm::net::Digest32{};
    if (!swarm::net::SignRequestAuth(*id, a).ok()) __builtin_trap();
    auto d = swarm::net::DecodeRequestAuth(swarm::net::EncodeRequestAuth(a));
    if (!d.ok() || !swarm::net::VerifyRequestAuthSignature(*d).ok()) __builtin_trap();
    return new swarm::Bytes(swarm::net::EncodeRequestAuth(a));
  }();
  return *wire;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Check(swarm::ByteSpan(data, size));
  swarm::Bytes m = ValidHeader();
  for (size_t i = 0; i + 2 < size; i += 3) {
    const size_t at = ((static_cast<size_t>(data[i]) << 8) | data[i + 1]) % m.size();
    m[at] ^= data[i + 2];
  }
  if (size % 7 == 3 && size > 0) m.resize(m.size() - (data[0] % m.size()));
  Check(m);
  return 0;
}
