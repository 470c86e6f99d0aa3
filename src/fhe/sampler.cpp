#include "fhe/sampler.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>
#include <utility>

namespace swarm::fhe {

StatusOr<Prng> Prng::FromOsEntropy() {
  std::array<uint8_t, 32> seed{};
  if (RAND_bytes(seed.data(), static_cast<int>(seed.size())) != 1) {
    return absl::UnavailableError("OpenSSL RAND_bytes failed to produce a seed");
  }
  Prng p = FromSeed(seed);
  SecureZero(seed.data(), seed.size());
  return p;
}

Prng Prng::FromSeed(const std::array<uint8_t, 32>& seed) {
  Prng p;
  p.ctx_ = EVP_CIPHER_CTX_new();
  SWARM_ASSERT(p.ctx_ != nullptr);
  const uint8_t iv[16] = {0};
  SWARM_ASSERT(EVP_EncryptInit_ex(p.ctx_, EVP_aes_256_ctr(), nullptr, seed.data(), iv) == 1);
  return p;
}

Prng::~Prng() {
  if (ctx_) EVP_CIPHER_CTX_free(ctx_);
  SecureZero(buf_.data(), buf_.size());
}

Prng::Prng(Prng&& o) noexcept : ctx_(std::exchange(o.ctx_, nullptr)), buf_(o.buf_), pos_(o.pos_) {}

Prng& Prng::operator=(Prng&& o) noexcept {
  if (this != &o) {
    if (ctx_) EVP_CIPHER_CTX_free(ctx_);
    ctx_ = std::exchange(o.ctx_, nullptr);
    buf_ = o.buf_;
    pos_ = o.pos_;
  }
  return *this;
}

void Prng::Refill() {
  static const std::array<uint8_t, 4096> kZero{};
  int len = 0;
  SWARM_ASSERT(EVP_EncryptUpdate(ctx_, buf_.data(), &len, kZero.data(), static_cast<int>(kZero.size())) == 1);
  SWARM_ASSERT(len == static_cast<int>(buf_.size()));
  pos_ = 0;
}

void Prng::Fill(uint8_t* out, size_t len) {
  while (len > 0) {
    if (pos_ == buf_.size()) Refill();
    const size_t take = std::min(len, buf_.size() - pos_);
    std::memcpy(out, buf_.data() + pos_, take);
    pos_ += take;
    out += take;
    len -= take;
  }
}

uint64_t Prng::NextU64() {
  if (buf_.size() - pos_ < 8) Refill();
  uint64_t v;
  std::memcpy(&v, buf_.data() + pos_, 8);
  pos_ += 8;
  return v;
}

RnsPoly Prng::UniformPoly(const Context& ctx, const Basis& basis) {
  RnsPoly p(ctx.n(), basis.size());
  for (size_t r = 0; r < basis.size(); ++r) {
    const Modulus& m = ctx.modulus(basis[r]);
    const uint64_t mask = (m.bits() == 64) ? ~uint64_t{0} : ((uint64_t{1} << m.bits()) - 1);
    uint64_t* row = p.row(r);
    for (size_t i = 0; i < ctx.n(); ++i) {
      uint64_t v;
      do v = NextU64() & mask; while (v >= m.value());
      row[i] = v;
    }
  }
  return p;
}

std::vector<int64_t> Prng::Ternary(size_t n) {
  std::vector<int64_t> v(n);
  size_t i = 0;
  while (i < n) {
    uint64_t w = NextU64();
    for (int k = 0; k < 8 && i < n; ++k, w >>= 8) {
      const uint8_t b = static_cast<uint8_t>(w);
      if (b >= 255) continue;  // 255 = 3 * 85: rejection keeps it unbiased
      v[i++] = static_cast<int64_t>(b % 3) - 1;
    }
  }
  return v;
}

std::vector<int64_t> Prng::SparseTernary(size_t n, size_t h) {
  std::vector<int64_t> v(n, 0);
  if (h > n) h = n;
  // Partial Fisher-Yates over positions; unbiased bounded draws by rejection.
  std::vector<uint32_t> pos(n);
  for (size_t i = 0; i < n; ++i) pos[i] = static_cast<uint32_t>(i);
  for (size_t i = 0; i < h; ++i) {
    const uint64_t range = n - i, limit = UINT64_MAX - UINT64_MAX % range;
    uint64_t r;
    do r = NextU64(); while (r >= limit);
    std::swap(pos[i], pos[i + r % range]);
    v[pos[i]] = (NextU64() & 1) ? 1 : -1;
  }
  return v;
}

std::vector<int64_t> Prng::Cbd(size_t n) {
  std::vector<int64_t> v(n);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t bits = NextU64();
    const int a = __builtin_popcountll(bits & ((uint64_t{1} << kCbdEta) - 1));
    const int b = __builtin_popcountll((bits >> kCbdEta) & ((uint64_t{1} << kCbdEta) - 1));
    v[i] = a - b;
  }
  return v;
}

}  // namespace swarm::fhe
