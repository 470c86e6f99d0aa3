// Fuzz target: the train_ct / train_sum decoders of encrypted averaging (peer
// input; the SWSS blob inside has its own target, fuzz/fhe/secure_sum_fuzz.cpp).
#include <cstddef>
#include <cstdint>

#include "train/secure_codec.h"

namespace {

void Check(const uint8_t* data, size_t size) {
  const swarm::ByteSpan in(data, size);
  swarm::train::SecureCodecLimits limits;
  limits.used_max = 64;
  limits.blob_bytes_max = 1 << 16;
  if (auto ct = swarm::train::DecodeSecureCiphertext(in, limits); ct.ok()) {
    // Postconditions: limits hold, and re-encoding gives the same bytes.
    if (ct->header.sender.empty() || ct->header.sender.size() > limits.sender_bytes_max) __builtin_trap();
    if (ct->blob.empty() || ct->blob.size() > limits.blob_bytes_max) __builtin_trap();
    if (swarm::train::EncodeSecureCiphertext(ct->header, ct->blob) != swarm::Bytes(data, data + size)) __builtin_trap();
  }
  if (auto sum = swarm::train::DecodeSecureSum(in, limits); sum.ok()) {
    if (sum->used.size() > limits.used_max || sum->blob.empty()) __builtin_trap();
    if (swarm::train::EncodeSecureSum(sum->header, sum->used, sum->blob) != swarm::Bytes(data, data + size)) {
      __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Check(data, size);
  // Random bytes rarely match a magic: also try them behind each valid one.
  for (const char* magic : {"SWEC\x01", "SWES\x01"}) {
    swarm::Bytes with(magic, magic + 5);
    with.insert(with.end(), data, data + size);
    Check(with.data(), with.size());
  }
  return 0;
}
