#include "fhe/modarith.h"

#include <algorithm>

namespace swarm::fhe {

Modulus::Modulus(uint64_t q) : q_(q) {
  SWARM_ASSERT(q >= 2 && q < (uint64_t{1} << 62));
  // floor(2^128 / q): 2^128 = (2^128 - 1) + 1 and q does not divide 2^128 (odd q or q=2 handled).
  const u128 all = ~u128{0};
  u128 r = all / q;
  if (all % q == q - 1) ++r;
  r0_ = static_cast<uint64_t>(r);
  r1_ = static_cast<uint64_t>(r >> 64);
  bits_ = 64 - __builtin_clzll(q);
}

uint64_t Modulus::Pow(uint64_t base, uint64_t e) const {
  uint64_t result = 1 % q_, b = Reduce(base);
  while (e != 0) {
    if (e & 1) result = Mul(result, b);
    b = Mul(b, b);
    e >>= 1;
  }
  return result;
}

namespace {
uint64_t PowMod128(uint64_t b, uint64_t e, uint64_t m) {
  uint64_t r = 1 % m;
  b %= m;
  while (e) {
    if (e & 1) r = static_cast<uint64_t>(static_cast<u128>(r) * b % m);
    b = static_cast<uint64_t>(static_cast<u128>(b) * b % m);
    e >>= 1;
  }
  return r;
}
}  // namespace

bool IsPrime(uint64_t n) {
  if (n < 2) return false;
  static constexpr uint64_t kSmall[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
  for (uint64_t p : kSmall) {
    if (n % p == 0) return n == p;
  }
  uint64_t d = n - 1;
  int s = 0;
  while ((d & 1) == 0) {
    d >>= 1;
    ++s;
  }
  for (uint64_t a : kSmall) {  // these 12 bases are deterministic for n < 3.3e24
    uint64_t x = PowMod128(a, d, n);
    if (x == 1 || x == n - 1) continue;
    bool composite = true;
    for (int r = 1; r < s; ++r) {
      x = static_cast<uint64_t>(static_cast<u128>(x) * x % n);
      if (x == n - 1) {
        composite = false;
        break;
      }
    }
    if (composite) return false;
  }
  return true;
}

StatusOr<std::vector<uint64_t>> GenerateNttPrimes(int bits, size_t count, uint64_t two_n,
                                                  const std::vector<uint64_t>& exclude) {
  if (bits < kPrimeBitsMin || bits > kPrimeBitsMax) {
    return absl::InvalidArgumentError(absl::StrCat("prime bits ", bits, " outside [",
                                                   kPrimeBitsMin, ", ", kPrimeBitsMax, "]"));
  }
  if (two_n == 0 || (two_n & (two_n - 1)) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("2N = ", two_n, " is not a power of two"));
  }
  std::vector<uint64_t> out;
  const uint64_t top = uint64_t{1} << bits, bottom = uint64_t{1} << (bits - 1);
  // Largest candidate ≡ 1 mod 2N below 2^bits.
  uint64_t c = top - two_n + 1;
  while (out.size() < count && c > bottom) {
    if (IsPrime(c) && std::find(exclude.begin(), exclude.end(), c) == exclude.end()) {
      out.push_back(c);
    }
    c -= two_n;
  }
  if (out.size() < count) {
    return absl::InvalidArgumentError(absl::StrCat("only ", out.size(), " primes of ", bits,
                                                   " bits are ≡ 1 mod ", two_n, "; need ", count));
  }
  return out;
}

StatusOr<uint64_t> MinimalPrimitiveRoot(uint64_t q, uint64_t two_n) {
  if ((q - 1) % two_n != 0) {
    return absl::InvalidArgumentError(absl::StrCat("q = ", q, " is not 1 mod ", two_n));
  }
  Modulus m(q);
  const uint64_t cofactor = (q - 1) / two_n;
  // Find any generator of the 2N-th roots, then the smallest of its odd powers.
  uint64_t root = 0;
  for (uint64_t g = 2; g < q && root == 0; ++g) {
    const uint64_t cand = m.Pow(g, cofactor);
    if (m.Pow(cand, two_n / 2) == q - 1) root = cand;  // order exactly 2N
  }
  if (root == 0) return absl::InternalError("no primitive root found");
  uint64_t best = root, cur = root;
  const uint64_t sq = m.Mul(root, root);
  for (uint64_t k = 1; k < two_n; k += 2) {  // odd powers are exactly the primitive roots
    if (cur < best) best = cur;
    cur = m.Mul(cur, sq);
  }
  return best;
}

}  // namespace swarm::fhe
