// CKKS bootstrapping: refreshes a ciphertext at level 0 (or any level up to
// the output level) to the output level `user_levels`, so circuits deeper than
// the modulus chain can run.
//
// Pipeline (all written here; read Cheon-Han-Kim-Kim-Song 2018, Chen-Chillotti-
// Song 2019, Bossuat et al. 2021 for the ideas):
//  1. ModRaise: c (mod q_0) is lifted to the top of the chain; it now
//     decrypts to t = m + q_0 * I with |I| ≤ K (K from the secret's Hamming
//     weight h, the sum of h+1 uniform terms: 7 standard deviations + 2).
//     The raised ciphertext's scale is declared q_0, so its slots hold
//     U_0 (t/q_0) where U_0 is the n x n decoding DFT (n = N/2 slots).
//  2. CoeffToSlot: U_0^-1 as log2(n) radix-2 butterfly stages (3 diagonals
//     each) merged into `coeff_to_slot_levels` groups; each group is one
//     level, evaluated as a baby-step/giant-step diagonal transform whose baby
//     rotations are hoisted (one digit decomposition for all). The output
//     slots are bit-reversed coefficients (t_j + i t_{j+n}) / (2 B q_0),
//     B = K + 1 (the bit reversal cancels in SlotToCoeff).
//  3. EvalMod: real and imaginary parts are split with one conjugation; each
//     becomes u = (x - 1/4)/B, then cos(2 pi B u / 2^r) is evaluated as a
//     Chebyshev interpolant in w = 2u^2 - 1 (the cosine is even; degree chosen
//     so the tail is below 1e-14), then r double-angle steps cos 2a = 2cos^2 a - 1
//     give cos(2 pi (x - 1/4)) = sin(2 pi x) ≈ 2 pi m / q_0.
//  4. SlotToCoeff: U_0 by the same merged stages (ascending), with the
//     constant q_0 / (2 pi Delta) folded in; the output has the input's scale.
//
// Level budget (prime indices from q_0): q_0 | user_levels primes |
// slots_to_coeff_levels | eval_mod levels (1 + ceil(log2 d) + 1 + r) |
// coeff_to_slot_levels. PlanBootstrap computes it and the ParamSpec.
//
// Keys: a relinearization key and Galois keys for exactly RotationSteps()
// plus conjugation. Key switching is one digit per prime (keys.h), so each
// Galois key is 2 * L * (L+1) * N * 8 bytes: at N = 65536 with 25 primes that
// is 681 MB per key, which is what limits the ring degree on small machines.
//
// Errors: Create refuses parameters that cannot bootstrap (dense secret,
// chain not matching the plan, missing keys) and Bootstrap refuses a wrong
// ciphertext (3 parts, level above the output level, a scale too close to
// q_0, foreign keys) before any work, each with the reason.
//
// Thread-safety: a Bootstrapper is immutable after Create; Bootstrap may be
// called from several threads at once. It shares the keys by shared_ptr.
#pragma once

#include <complex>
#include <map>
#include <memory>
#include <vector>

#include "fhe/ckks.h"

namespace swarm::fhe {

struct BootstrapConfig {
  size_t poly_degree = 65536;
  int secret_hamming_weight = 192;
  int user_levels = 8;
  int base_prime_bits = 52;       // q_0: the ratio q_0 / Delta (2^12) trades sin(x) ≈ x against noise growth
  int user_prime_bits = 40;       // user levels; default scale 2^user_prime_bits
  int slots_to_coeff_levels = 3;
  int slots_to_coeff_prime_bits = 40;
  int eval_mod_prime_bits = 55;   // also EvalMod's working scale
  int coeff_to_slot_levels = 3;
  int coeff_to_slot_prime_bits = 56;
  int double_angle = 3;           // r
  int special_prime_bits = 60;
  int k_bound = 0;                // |I| bound; 0 = from the Hamming weight
  bool allow_insecure = false;    // tests/benchmarks only (see params.h)
};

struct BootstrapPlan {
  int k_bound = 0;
  std::vector<double> cheb;       // Chebyshev coefficients in w, degree cheb.size() - 1
  int eval_mod_levels = 0;
  size_t output_level = 0;        // = user_levels
  size_t slots_to_coeff_top = 0;  // level of EvalMod's output
  size_t eval_mod_top = 0;        // level of EvalMod's input
  ParamSpec spec;
};

// The chain and EvalMod polynomial for a config; refuses configs that cannot
// bootstrap (dense secret, fewer than 1 level per stage, too many primes).
StatusOr<BootstrapPlan> PlanBootstrap(const BootstrapConfig& cfg);

class Bootstrapper {
 public:
  // ctx must have been made from PlanBootstrap(cfg).spec.
  static StatusOr<std::unique_ptr<Bootstrapper>> Create(ContextPtr ctx, const BootstrapConfig& cfg,
                                                        std::shared_ptr<const RelinKey> relin,
                                                        std::shared_ptr<const GaloisKeys> galois);
  // The rotation steps CoeffToSlot and SlotToCoeff use (conjugation also needed).
  static StatusOr<std::vector<int>> RotationSteps(const BootstrapConfig& cfg);

  StatusOr<Ciphertext> Bootstrap(const Ciphertext& ct) const;

  // The stages, exposed for tests and benchmarks (Bootstrap = SlotToCoeff(
  // EvalMod(CoeffToSlot(ModRaise(ct))), ct.scale)).
  StatusOr<Ciphertext> ModRaise(const Ciphertext& ct) const;
  // In: the raised ciphertext (scale q_0, top level). Out: slot j holds
  // (t_br(j) + i t_br(j)+n) / (2 B q_0) at level eval_mod_top, scale 2^eval_mod_prime_bits.
  StatusOr<Ciphertext> CoeffToSlot(const Ciphertext& raised) const;
  // In: slots z = (x_re + i x_im) / (2B) at level eval_mod_top. Out: sin(2 pi x_re) + i sin(2 pi x_im)
  // at level slots_to_coeff_top.
  StatusOr<Ciphertext> EvalMod(const Ciphertext& z) const;
  // In: slots v at level slots_to_coeff_top. Out: slots U_0 BR(v) * q_0 / (2 pi out_scale)
  // at the output level with scale out_scale.
  StatusOr<Ciphertext> SlotToCoeff(const Ciphertext& v, double out_scale) const;

  const BootstrapPlan& plan() const { return plan_; }
  double base_prime() const { return static_cast<double>(ctx_->modulus(0).value()); }
  double eval_mod_range() const { return plan_.k_bound + 1.0; }  // B

 private:
  struct Group {
    std::map<size_t, std::vector<std::complex<double>>> diags;  // rotation k (mod n) -> diagonal
    size_t unit = 1;                                             // every k is a multiple
    int n1 = 1;                                                  // baby steps
  };
  Bootstrapper() = default;
  StatusOr<Ciphertext> ApplyGroup(const Ciphertext& x, const Group& g, std::complex<double> factor,
                                  double pt_scale) const;
  StatusOr<Ciphertext> EvalModReal(const Ciphertext& u) const;
  StatusOr<Ciphertext> MulConstTo(const Ciphertext& a, double c, double target_scale) const;
  StatusOr<Ciphertext> MatchTo(const Ciphertext& a, double scale, size_t level) const;
  Ciphertext MulByI(const Ciphertext& a) const;
  static std::vector<Group> MakeGroups(size_t n, int levels, bool inverse);

  ContextPtr ctx_;
  BootstrapConfig cfg_;
  BootstrapPlan plan_;
  std::shared_ptr<const RelinKey> relin_;
  std::shared_ptr<const GaloisKeys> galois_;
  std::unique_ptr<CkksEncoder> enc_;
  std::unique_ptr<CkksEvaluator> eval_;
  std::vector<Group> cts_, stc_;
  RnsPoly mono_i_;  // NTT of X^(N/2) over all data primes: multiplies every slot by i
};

}  // namespace swarm::fhe
