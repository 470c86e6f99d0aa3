// SHA-3 family through OpenSSL's EVP interface (never hand-written here).
//
// Sha3_256 / Sha3_512: one-shot helpers. Xof: SHAKE128/256 with absorb then
// any number of Squeeze calls. OpenSSL 3.0 finalizes an XOF once, so Xof keeps
// a copy of the absorbed state and, when more output is needed than produced
// so far, re-finalizes the copy for a longer output (a SHAKE output is a prefix
// of every longer one). Output is buffered with doubling, so the amortized cost
// stays linear.
//
// Thread-safety: objects are not shared between threads; functions are pure.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>

#include "common/bytes.h"

struct evp_md_ctx_st;

namespace swarm::crypto {

using Digest256 = std::array<uint8_t, 32>;
using Digest512 = std::array<uint8_t, 64>;

Digest256 Sha3_256(ByteSpan data);
Digest512 Sha3_512(ByteSpan data);
// Hash of several parts, as if concatenated.
Digest256 Sha3_256(std::initializer_list<ByteSpan> parts);
Digest512 Sha3_512(std::initializer_list<ByteSpan> parts);

class Xof {
 public:
  enum class Kind { kShake128, kShake256 };
  explicit Xof(Kind kind);
  ~Xof();
  Xof(Xof&&) noexcept;
  Xof& operator=(Xof&&) noexcept;
  Xof(const Xof&) = delete;
  Xof& operator=(const Xof&) = delete;

  // Absorb more input. Must not be called after the first Squeeze.
  void Absorb(ByteSpan data);
  // Next `out.size()` bytes of the output stream.
  void Squeeze(std::span<uint8_t> out);

  // One-shot: `out_len` bytes of SHAKE(data).
  static Bytes Shake128(ByteSpan data, size_t out_len);
  static Bytes Shake256(ByteSpan data, size_t out_len);

 private:
  void Refill(size_t need);
  Kind kind_;
  evp_md_ctx_st* absorbed_ = nullptr;  // state after absorption, never finalized
  Bytes out_;                           // output produced so far
  size_t pos_ = 0;                      // bytes already handed out
  bool squeezing_ = false;
};

}  // namespace swarm::crypto
