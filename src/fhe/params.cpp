#include "fhe/params.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_format.h"

#include "crypto/hash.h"
#include "fhe/rns.h"

namespace swarm::fhe {

const char* SchemeName(Scheme s) { return s == Scheme::kCkks ? "CKKS" : "BFV"; }

StatusOr<int> SecurityBoundBits(size_t n) {
  switch (n) {
    case 4096: return 109;
    case 8192: return 218;
    case 16384: return 438;
    case 32768: return 881;
    case 65536: return 1747;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "poly_degree ", n, " unsupported: must be 4096, 8192, 16384, 32768 or 65536"));
  }
}

StatusOr<int> SparseSecurityBoundBits(size_t n, int h) {
  if (h <= 0) return SecurityBoundBits(n);
  if (h >= 192 && n == 32768) return 768;
  if (h >= 192 && n == 65536) return 1550;
  return absl::InvalidArgumentError(absl::StrCat(
      "secret_hamming_weight ", h, " at poly_degree ", n,
      " has no published 128-bit estimate here (known: h >= 192 at N = 32768 or 65536); "
      "use a uniform ternary secret (secret_hamming_weight 0) or allow_insecure in tests"));
}

Status CheckSecurity(size_t n, double log2_qp, int h) {
  if (h <= 0) return CheckSecurity(n, log2_qp);
  SWARM_ASSIGN_OR_RETURN(int bound, SparseSecurityBoundBits(n, h));
  if (log2_qp > bound) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "insecure parameters: log2(Q*P) = %.2f bits exceeds %d bits, the published 128-bit bound for N = %d "
        "with a sparse ternary secret of Hamming weight %d",
        log2_qp, bound, n, h));
  }
  return absl::OkStatus();
}

Status CheckSecurity(size_t n, double log2_qp) {
  SWARM_ASSIGN_OR_RETURN(int bound, SecurityBoundBits(n));
  if (log2_qp > bound) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "insecure parameters: log2(Q*P) = %.2f bits exceeds %d bits, the HomomorphicEncryption.org "
        "standard's 128-bit classical security bound for N = %d with ternary secrets",
        log2_qp, bound, n));
  }
  return absl::OkStatus();
}

StatusOr<ParamSpec> CkksPreset(size_t n) {
  ParamSpec s;
  s.scheme = Scheme::kCkks;
  s.poly_degree = n;
  switch (n) {
    case 4096: s.data_prime_bits = {40, 29}; s.special_prime_bits = 40; s.scale = std::ldexp(1.0, 29); break;
    case 8192: s.data_prime_bits = {60, 40, 40}; s.special_prime_bits = 60; s.scale = std::ldexp(1.0, 40); break;
    case 16384: s.data_prime_bits = {60, 40, 40, 40, 40, 40, 40}; s.special_prime_bits = 60; s.scale = std::ldexp(1.0, 40); break;
    case 32768:
      s.data_prime_bits = {60};
      for (int i = 0; i < 18; ++i) s.data_prime_bits.push_back(40);
      s.special_prime_bits = 60;
      s.scale = std::ldexp(1.0, 40);
      break;
    case 65536:
      s.data_prime_bits = {60};
      for (int i = 0; i < 30; ++i) s.data_prime_bits.push_back(50);
      s.special_prime_bits = 60;
      s.scale = std::ldexp(1.0, 50);
      break;
    default: return SecurityBoundBits(n).status();
  }
  return s;
}

StatusOr<ParamSpec> BfvPreset(size_t n) {
  ParamSpec s;
  s.scheme = Scheme::kBfv;
  s.poly_degree = n;
  s.plain_modulus_bits = 20;
  switch (n) {
    case 4096: s.data_prime_bits = {36, 36}; s.special_prime_bits = 37; break;
    case 8192: s.data_prime_bits = {54, 54, 54}; s.special_prime_bits = 54; break;
    case 16384: s.data_prime_bits = std::vector<int>(7, 54); s.special_prime_bits = 54; break;
    case 32768: s.data_prime_bits = std::vector<int>(15, 55); s.special_prime_bits = 55; break;
    case 65536: s.data_prime_bits = std::vector<int>(16, 59); s.special_prime_bits = 60; break;
    default: return SecurityBoundBits(n).status();
  }
  return s;
}

namespace {
void PutU64(std::vector<uint8_t>& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
}  // namespace

Context::~Context() = default;

ParamHash ComputeParamHash(Scheme scheme, size_t n, const std::vector<uint64_t>& primes,
                           uint64_t plain_modulus, double scale, std::vector<uint8_t>* canonical) {
  std::vector<uint8_t> c;
  c.push_back(static_cast<uint8_t>(scheme));
  PutU64(c, n);
  PutU64(c, primes.size());
  for (uint64_t p : primes) PutU64(c, p);
  PutU64(c, plain_modulus);
  uint64_t scale_bits = 0;
  static_assert(sizeof(double) == 8);
  std::memcpy(&scale_bits, &scale, 8);
  PutU64(c, scheme == Scheme::kCkks ? scale_bits : 0);
  ParamHash h = crypto::Sha3_256(ByteSpan(c.data(), c.size()));
  if (canonical) *canonical = std::move(c);
  return h;
}

double Context::log2_q_at(size_t level) const {
  double s = 0;
  for (size_t i = 0; i <= level && i < data_count_; ++i) s += std::log2(static_cast<double>(moduli_[i].value()));
  return s;
}

StatusOr<ContextPtr> Context::Create(const ParamSpec& spec) {
  const size_t n = spec.poly_degree;
  if (spec.allow_insecure) {
    if (n < kInsecurePolyDegreeMin || n > kPolyDegreeMax || (n & (n - 1)) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("poly_degree ", n, " must be a power of two in [",
                                                      kInsecurePolyDegreeMin, ", ", kPolyDegreeMax, "]"));
    }
  } else {
    SWARM_RETURN_IF_ERROR(SecurityBoundBits(n).status());
  }
  if (spec.secret_hamming_weight < 0 || static_cast<size_t>(spec.secret_hamming_weight) > n) {
    return absl::InvalidArgumentError(absl::StrCat("secret_hamming_weight ", spec.secret_hamming_weight,
                                                   " must be in [0, poly_degree ", n, "]"));
  }
  if (spec.scheme != Scheme::kCkks && spec.scheme != Scheme::kBfv) {
    return absl::InvalidArgumentError(absl::StrCat("scheme ", static_cast<int>(spec.scheme), " unknown"));
  }
  const size_t L = spec.data_prime_bits.size();
  const size_t max_l = spec.scheme == Scheme::kBfv ? kBfvDataPrimesMax : kDataPrimesMax;
  if (L == 0 || L > max_l) {
    return absl::InvalidArgumentError(
        absl::StrCat("data_prime_bits has ", L, " primes; must be 1..", max_l, " for ", SchemeName(spec.scheme)));
  }
  int max_bits = 0;
  for (int b : spec.data_prime_bits) {
    if (b < kPrimeBitsMin || b > kPrimeBitsMax) {
      return absl::InvalidArgumentError(absl::StrCat("data prime bits ", b, " outside [", kPrimeBitsMin, ", ", kPrimeBitsMax, "]"));
    }
    max_bits = std::max(max_bits, b);
  }
  if (spec.special_prime_bits < max_bits || spec.special_prime_bits > kPrimeBitsMax) {
    return absl::InvalidArgumentError(absl::StrCat("special_prime_bits ", spec.special_prime_bits,
                                                   " must be in [largest data prime bits ", max_bits, ", ", kPrimeBitsMax, "]"));
  }
  // Cheap check first (bit sizes bound the log from above), exact one after generation.
  double approx = spec.special_prime_bits - 1;
  for (int b : spec.data_prime_bits) approx += b - 1;
  if (!spec.allow_insecure) SWARM_RETURN_IF_ERROR(CheckSecurity(n, approx, spec.secret_hamming_weight));
  if (spec.scheme == Scheme::kCkks) {
    if (!(spec.scale >= 2.0) || spec.scale > std::ldexp(1.0, 60)) {
      return absl::InvalidArgumentError(absl::StrCat("scale ", spec.scale, " must be in [2, 2^60] for CKKS"));
    }
  } else if (spec.plain_modulus_bits < 2 * 0 + kPrimeBitsMin || spec.plain_modulus_bits > 40) {
    return absl::InvalidArgumentError(absl::StrCat("plain_modulus_bits ", spec.plain_modulus_bits, " must be in [", kPrimeBitsMin, ", 40] for BFV"));
  }

  auto ctx = std::shared_ptr<Context>(new Context());
  ctx->spec_ = spec;
  ctx->data_count_ = L;
  std::vector<uint64_t> chosen;
  auto take = [&](int bits) -> StatusOr<uint64_t> {
    SWARM_ASSIGN_OR_RETURN(auto p, GenerateNttPrimes(bits, 1, 2 * n, chosen));
    chosen.push_back(p[0]);
    return p[0];
  };
  for (int b : spec.data_prime_bits) {
    SWARM_ASSIGN_OR_RETURN(uint64_t q, take(b));
    ctx->moduli_.emplace_back(q);
  }
  SWARM_ASSIGN_OR_RETURN(uint64_t p, take(spec.special_prime_bits));
  ctx->moduli_.emplace_back(p);
  ctx->log2_qp_ = 0;
  for (const auto& m : ctx->moduli_) ctx->log2_qp_ += std::log2(static_cast<double>(m.value()));
  if (!spec.allow_insecure) SWARM_RETURN_IF_ERROR(CheckSecurity(n, ctx->log2_qp_, spec.secret_hamming_weight));
  for (const auto& m : ctx->moduli_) {
    SWARM_ASSIGN_OR_RETURN(auto t, NttTables::Create(n, m.value()));
    ctx->ntt_.push_back(std::move(t));
  }
  // Rescale and key-switch constants.
  ctx->inv_last_.resize(L);
  for (size_t l = 1; l < L; ++l) {
    for (size_t i = 0; i < l; ++i) {
      const Modulus& qi = ctx->moduli_[i];
      ctx->inv_last_[l].push_back(qi.Inv(qi.Reduce(ctx->moduli_[l].value())));
    }
  }
  for (size_t i = 0; i < L; ++i) {
    const Modulus& qi = ctx->moduli_[i];
    ctx->inv_p_.push_back(qi.Inv(qi.Reduce(p)));
  }
  if (spec.scheme == Scheme::kBfv) {
    SWARM_ASSIGN_OR_RETURN(uint64_t t, take(spec.plain_modulus_bits));
    SWARM_ASSIGN_OR_RETURN(auto tt, NttTables::Create(n, t));
    ctx->plain_ = std::make_unique<NttTables>(std::move(tt));
    SWARM_ASSIGN_OR_RETURN(ctx->bfv_, BfvTables::Create(*ctx, chosen));
  }
  std::vector<uint64_t> primes;
  for (const auto& m : ctx->moduli_) primes.push_back(m.value());
  ctx->hash_ = ComputeParamHash(spec.scheme, n, primes, ctx->plain_modulus(), spec.scale, &ctx->canonical_);
  return std::shared_ptr<const Context>(std::move(ctx));
}

}  // namespace swarm::fhe
