// Wire format of the encrypted averaging path (trainer.secure_agg = "ckks"):
// the payloads of the signed envelopes "train_ct" (trainer → aggregator: one
// encrypted contribution) and "train_sum" (aggregator → every trainer: the
// encrypted sum of a round and who is in it). Torch-free.
//
//   train_ct:  "SWEC" | version u8 = 1 | job u64 | round u64 |
//              sender_len u16 | sender | blob (the rest)
//   train_sum: "SWES" | version u8 = 1 | job u64 | round u64 |
//              sender_len u16 | sender | used_count u32 |
//              used_count x (len u16 | name) | blob (the rest)
// blob is an fhe/secure_sum.h SerializeEncryptedVector ("SWSS"), checked by
// its own deserializer (DeserializeEncryptedVector) where it is used; the
// contributor count the aggregator claims is inside it. Integers little-endian.
//
// Decoding checks every length against the buffer and the limits before
// reading, and returns InvalidArgument naming the field and value
// ("secure message: sender length 300 exceeds sender_bytes_max = 256").
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"

namespace swarm::train {

struct SecureHeader {
  uint64_t job = 0;
  uint64_t round = 0;
  std::string sender;  // trainer name (its gRPC address) or the aggregator's address
};

struct SecureCiphertextMessage {
  SecureHeader header;
  Bytes blob;  // SWSS encrypted vector
};

struct SecureSumMessage {
  SecureHeader header;
  std::vector<std::string> used;  // trainers whose contributions are in the sum, in trainers order
  Bytes blob;                     // SWSS encrypted sum
};

struct SecureCodecLimits {
  size_t sender_bytes_max = 256;
  size_t used_max = 1024;  // = the trainers' count limit (trainer.quorum range)
  size_t blob_bytes_max = size_t{1} << 30;
};

Bytes EncodeSecureCiphertext(const SecureHeader& h, ByteSpan blob);
Bytes EncodeSecureSum(const SecureHeader& h, const std::vector<std::string>& used, ByteSpan blob);
StatusOr<SecureCiphertextMessage> DecodeSecureCiphertext(ByteSpan wire, const SecureCodecLimits& limits = {});
StatusOr<SecureSumMessage> DecodeSecureSum(ByteSpan wire, const SecureCodecLimits& limits = {});

}  // namespace swarm::train
