// Key generation and key switching.
//
// Key switching is RNS-digit decomposition with one special prime P (the
// "hybrid" method with one digit per data prime, as in SEAL): the input
// polynomial d at level l is split into its residues [d]_{q_i}, each is
// multiplied by digit i of the key over q_0..q_l, P, the products are summed,
// and the result is divided by P with rounding (ModDown). Noise added is
// about l * q_i * N * sigma / P, i.e. small because P ≥ every q_i.
//
// Thread-safety: KeyGenerator owns a Prng and is not shared between threads.
// Errors: parameter/key mismatches return InvalidArgument naming the fields.
#pragma once

#include <vector>

#include "fhe/ciphertext.h"
#include "fhe/sampler.h"

namespace swarm::fhe {

inline constexpr size_t kGaloisKeysMax = 256;

// X -> X^(5^steps mod 2N): rotates CKKS slots / BFV rows left by `steps`.
uint32_t GaloisElementForRotation(size_t n, int steps);
// X -> X^(2N-1): complex conjugation (CKKS) / swapping the two rows (BFV).
uint32_t GaloisElementForConjugation(size_t n);

class KeyGenerator {
 public:
  // Seeds from the OS (OpenSSL RAND_bytes).
  static StatusOr<KeyGenerator> Create(ContextPtr ctx);
  // Reproducible keys from a seed: tests only.
  KeyGenerator(ContextPtr ctx, Prng prng) : ctx_(std::move(ctx)), prng_(std::move(prng)) {}

  SecretKey GenerateSecretKey();
  StatusOr<PublicKey> GeneratePublicKey(const SecretKey& sk);
  StatusOr<RelinKey> GenerateRelinKey(const SecretKey& sk);
  // Keys for left rotations by each of `steps` (any sign) and, if asked, conjugation.
  // Empty steps means every power of two, both directions.
  StatusOr<GaloisKeys> GenerateGaloisKeys(const SecretKey& sk, std::vector<int> steps, bool conjugate);

 private:
  Status CheckKey(const SecretKey& sk) const;
  KeySwitchKey MakeKeySwitchKey(const SecretKey& sk, const RnsPoly& s_from);
  ContextPtr ctx_;
  Prng prng_;
};

// (out0, out1) ≈ (d * s_from) split as out0 + out1 * s, at `level`.
// d: coefficient form, rows q_0..q_level; d_ntt: the same polynomial in NTT
// form (saves the transforms of digit i into its own prime). out0/out1: NTT
// form, same rows.
void KeySwitch(const Context& ctx, const RnsPoly& d_coeff, const RnsPoly& d_ntt, size_t level,
               const KeySwitchKey& key, RnsPoly& out0, RnsPoly& out1);

}  // namespace swarm::fhe

namespace swarm::fhe {
// Shared by the evaluators (checks done by the caller):
// (c0, c1, c2) -> (c0, c1) + KeySwitch(c2) with the relinearization key.
Ciphertext RelinearizeWith(const Context& ctx, const Ciphertext& a, const KeySwitchKey& key);
// (c0, c1) -> (g(c0), 0) + KeySwitch(g(c1)) with the Galois key for g.
Ciphertext ApplyGaloisWith(const Context& ctx, const Ciphertext& a, uint32_t g, const KeySwitchKey& key);

// Hoisted rotations (several automorphisms of one ciphertext): the digits
// [d]_{q_i} of d = c1, each extended to q_0..q_level, P in NTT form, computed
// once (the (l+1)*(l+1) NTTs that dominate key switching); each rotation then
// costs a permutation, the inner products and ModDown. sigma_g of a lifted
// digit is again a valid digit of sigma_g(d) (coefficients below q_i in
// absolute value), so the result decrypts like ApplyGaloisWith's, though not
// bit-identically (the digits are lifted differently). Deterministic.
struct HoistedDigits {
  size_t level = 0;
  std::vector<RnsPoly> digits;  // digits[i]: rows q_0..q_level, P (NTT form)
};
HoistedDigits DecomposeForKeySwitch(const Context& ctx, const RnsPoly& d_coeff, const RnsPoly& d_ntt, size_t level);
Ciphertext ApplyGaloisHoisted(const Context& ctx, const Ciphertext& a, const HoistedDigits& h, uint32_t g,
                              const KeySwitchKey& key);
}  // namespace swarm::fhe
