// The signed request header and reply trailer decoders (net/call_auth.h) read
// peer bytes: any byte string is rejected cleanly or decodes to a header that
// re-encodes to the same bytes.
#include <cstdint>

#include "net/call_auth.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const swarm::ByteSpan in(data, size);
  auto h = swarm::net::DecodeRequestAuth(in);
  if (h.ok()) {
    if (swarm::net::EncodeRequestAuth(*h) != swarm::Bytes(data, data + size)) __builtin_trap();
    (void)swarm::net::VerifyRequestAuthSignature(*h);
  }
  auto r = swarm::net::DecodeReplyAuth(in);
  if (r.ok() && swarm::net::EncodeReplyAuth(*r) != swarm::Bytes(data, data + size)) __builtin_trap();
  return 0;
}
