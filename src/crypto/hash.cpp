#include "crypto/hash.h"

#include <openssl/evp.h>

#include <utility>

namespace swarm::crypto {
namespace {

template <size_t N>
std::array<uint8_t, N> DigestParts(const EVP_MD* md, std::initializer_list<ByteSpan> parts) {
  std::array<uint8_t, N> out{};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  SWARM_ASSERT(ctx != nullptr);
  SWARM_ASSERT(EVP_DigestInit_ex(ctx, md, nullptr) == 1);
  for (const auto& p : parts) SWARM_ASSERT(EVP_DigestUpdate(ctx, p.data(), p.size()) == 1);
  unsigned int len = 0;
  SWARM_ASSERT(EVP_DigestFinal_ex(ctx, out.data(), &len) == 1);
  SWARM_ASSERT(len == N);
  EVP_MD_CTX_free(ctx);
  return out;
}

}  // namespace

// Explicitly fetched once: EVP_sha3_256() & co. make every EVP_DigestInit_ex
// do an implicit fetch under a lock.
static const EVP_MD* Md(const char* name) {
  const EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  SWARM_ASSERT(md != nullptr);
  return md;
}
static const EVP_MD* Sha3_256Md() { static const EVP_MD* md = Md("SHA3-256"); return md; }
static const EVP_MD* Sha3_512Md() { static const EVP_MD* md = Md("SHA3-512"); return md; }
static const EVP_MD* Shake128Md() { static const EVP_MD* md = Md("SHAKE128"); return md; }
static const EVP_MD* Shake256Md() { static const EVP_MD* md = Md("SHAKE256"); return md; }

Digest256 Sha3_256(ByteSpan data) { return DigestParts<32>(Sha3_256Md(), {data}); }
Digest512 Sha3_512(ByteSpan data) { return DigestParts<64>(Sha3_512Md(), {data}); }
Digest256 Sha3_256(std::initializer_list<ByteSpan> parts) {
  return DigestParts<32>(Sha3_256Md(), parts);
}
Digest512 Sha3_512(std::initializer_list<ByteSpan> parts) {
  return DigestParts<64>(Sha3_512Md(), parts);
}

Xof::Xof(Kind kind) : kind_(kind) {
  absorbed_ = EVP_MD_CTX_new();
  SWARM_ASSERT(absorbed_ != nullptr);
  const EVP_MD* md = kind == Kind::kShake128 ? Shake128Md() : Shake256Md();
  SWARM_ASSERT(EVP_DigestInit_ex(absorbed_, md, nullptr) == 1);
}

Xof::~Xof() {
  if (absorbed_) EVP_MD_CTX_free(absorbed_);
  SecureZero(out_.data(), out_.size());
}

Xof::Xof(Xof&& o) noexcept
    : kind_(o.kind_), absorbed_(std::exchange(o.absorbed_, nullptr)), out_(std::move(o.out_)),
      pos_(o.pos_), squeezing_(o.squeezing_) {}

Xof& Xof::operator=(Xof&& o) noexcept {
  if (this != &o) {
    if (absorbed_) EVP_MD_CTX_free(absorbed_);
    kind_ = o.kind_;
    absorbed_ = std::exchange(o.absorbed_, nullptr);
    out_ = std::move(o.out_);
    pos_ = o.pos_;
    squeezing_ = o.squeezing_;
  }
  return *this;
}

void Xof::Absorb(ByteSpan data) {
  SWARM_ASSERT(!squeezing_);
  SWARM_ASSERT(EVP_DigestUpdate(absorbed_, data.data(), data.size()) == 1);
}

void Xof::Refill(size_t need) {
  // Rate-sized multiples: SHAKE128 rate 168, SHAKE256 rate 136.
  const size_t rate = kind_ == Kind::kShake128 ? 168 : 136;
  // First squeeze: just enough whole blocks (one-shot callers ask for exactly
  // what they need); later: double, so repeated squeezes stay linear overall.
  size_t len = out_.empty() ? (need + rate - 1) / rate * rate
                            : std::max<size_t>(out_.size() * 2, need);
  EVP_MD_CTX* tmp = EVP_MD_CTX_new();
  SWARM_ASSERT(tmp != nullptr);
  SWARM_ASSERT(EVP_MD_CTX_copy_ex(tmp, absorbed_) == 1);
  out_.resize(len);
  SWARM_ASSERT(EVP_DigestFinalXOF(tmp, out_.data(), len) == 1);
  EVP_MD_CTX_free(tmp);
}

void Xof::Squeeze(std::span<uint8_t> out) {
  squeezing_ = true;
  if (pos_ + out.size() > out_.size()) Refill(pos_ + out.size());
  std::copy_n(out_.begin() + static_cast<ptrdiff_t>(pos_), out.size(), out.begin());
  pos_ += out.size();
}

Bytes Xof::Shake128(ByteSpan data, size_t out_len) {
  Xof x(Kind::kShake128);
  x.Absorb(data);
  Bytes out(out_len);
  x.Squeeze(out);
  return out;
}

Bytes Xof::Shake256(ByteSpan data, size_t out_len) {
  Xof x(Kind::kShake256);
  x.Absorb(data);
  Bytes out(out_len);
  x.Squeeze(out);
  return out;
}

}  // namespace swarm::crypto
