// RNS polynomials and the RNS kernels the schemes share: element-wise ring
// operations, NTT of all rows, exact base conversion (HPS: floating-point
// correction of the CRT overflow count), and BFV's scale-and-round
// round(t * x / Q) computed from residues with 128-bit fixed-point fractions.
//
// An RnsPoly is N coefficients in each of k residue rows. Which prime a row
// belongs to is given by the caller as a Basis (a list of indices into
// Context::moduli()), so the same code serves ciphertexts at any level
// (rows q_0..q_l) and key-switching temporaries (q_0..q_l, P).
//
// Internal header of fhe/ (not part of the public contract); not thread-safe
// per object, pure per call.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "fhe/params.h"

namespace swarm::fhe {

struct RnsPoly {
  size_t n = 0;
  size_t k = 0;  // rows
  std::vector<uint64_t> data;

  RnsPoly() = default;
  RnsPoly(size_t n_, size_t k_) : n(n_), k(k_), data(n_ * k_, 0) {}
  uint64_t* row(size_t i) { return data.data() + i * n; }
  const uint64_t* row(size_t i) const { return data.data() + i * n; }
  bool operator==(const RnsPoly& o) const { return n == o.n && k == o.k && data == o.data; }
  // Keeps the first `rows` rows.
  void Truncate(size_t rows) {
    k = rows;
    data.resize(n * rows);
  }
};

using Basis = std::vector<size_t>;  // indices into Context::moduli()
Basis DataBasis(size_t level);                  // q_0..q_level
Basis KeyBasis(const Context& ctx, size_t level);  // q_0..q_level, P

void PolyAdd(const Context& c, const Basis& b, RnsPoly& a, const RnsPoly& x);
void PolySub(const Context& c, const Basis& b, RnsPoly& a, const RnsPoly& x);
void PolyNeg(const Context& c, const Basis& b, RnsPoly& a);
// out = x + y (or x - y) over the first b.size() rows; out is resized.
void PolyAddSubInto(const Context& c, const Basis& b, const RnsPoly& x, const RnsPoly& y, bool sub, RnsPoly& out);
// a = a ⊙ x (pointwise; meaningful in NTT form).
void PolyMul(const Context& c, const Basis& b, RnsPoly& a, const RnsPoly& x);
// out = x ⊙ y over the first b.size() rows of x and y (which may have more);
// out is resized to (n, b.size()).
void PolyMulInto(const Context& c, const Basis& b, const RnsPoly& x, const RnsPoly& y, RnsPoly& out);
// acc += x ⊙ y.
void PolyMulAcc(const Context& c, const Basis& b, RnsPoly& acc, const RnsPoly& x, const RnsPoly& y);
// a *= scalar, scalar given per row (already reduced).
void PolyMulRowScalars(const Context& c, const Basis& b, RnsPoly& a, const std::vector<uint64_t>& s);
void ToNtt(const Context& c, const Basis& b, RnsPoly& a);
void FromNtt(const Context& c, const Basis& b, RnsPoly& a);
// Rows of a small signed polynomial (|v| < 2^62) in the basis.
RnsPoly FromSigned(const Context& c, const Basis& b, const std::vector<int64_t>& v);

// Galois automorphism X -> X^g on a poly in NTT form (a permutation of each row).
std::vector<uint32_t> GaloisPermutation(size_t n, uint32_t g);
RnsPoly ApplyGaloisNtt(const RnsPoly& a, const std::vector<uint32_t>& perm);

// Exact conversion of x (given mod each `from` prime) to its centered
// representative's residues mod each `to` prime.
class BaseConverter {
 public:
  BaseConverter(const std::vector<Modulus>& from, const std::vector<Modulus>& to);
  // in: from.size() rows; out: to.size() rows; n coefficients each.
  void Convert(const uint64_t* const* in, uint64_t* const* out, size_t n) const;

 private:
  std::vector<Modulus> from_, to_;
  std::vector<uint64_t> qhat_inv_, qhat_inv_shoup_;
  std::vector<double> inv_q_;
  std::vector<std::vector<uint64_t>> qhat_mod_;  // [i][k] = (Q/q_i) mod to_k
  std::vector<uint64_t> q_mod_;                  // Q mod to_k
  std::vector<uint64_t> neg_q_mod_;              // -Q mod to_k
  std::vector<uint64_t> qhat_mod_flat_;          // [i * K + k]
};

// round(t * x / Q) mod each target, for x given mod every prime of Q ∪ R
// (R may be empty). Exact up to ±1 at rounding ties.
class ScaleRounder {
 public:
  ScaleRounder(const std::vector<Modulus>& q, const std::vector<Modulus>& r, uint64_t t,
               const std::vector<Modulus>& targets);
  // in: q.size() + r.size() rows; out: targets.size() rows.
  void Apply(const uint64_t* const* in, uint64_t* const* out, size_t n) const;

 private:
  std::vector<Modulus> q_, r_, targets_;
  std::vector<uint64_t> theta_hi_, theta_lo_;     // frac(t*R*inv_i/q_i) * 2^128
  std::vector<std::vector<uint64_t>> omega_;      // [i][m] floor(t*R*inv_i/q_i) mod target m
  std::vector<std::vector<uint64_t>> lambda_;     // [j][m] t*(R/r_j)*inv_j mod target m
  std::vector<uint64_t> omega_flat_, lambda_flat_;  // [i * T + m]
};

// BFV constants: the HPS extension basis R (|R| = L + 1 primes of 60 bits)
// for the tensor product, conversions Q<->R, and the two scale-and-round steps.
struct BfvTables {
  static StatusOr<std::unique_ptr<BfvTables>> Create(const Context& ctx, std::vector<uint64_t> used);
  std::vector<Modulus> q, r;
  std::vector<NttTables> r_ntt;
  std::unique_ptr<BaseConverter> q_to_r, r_to_q;
  std::unique_ptr<ScaleRounder> mult_round;     // Q∪R -> R, factor t/Q
  std::unique_ptr<ScaleRounder> decrypt_round;  // Q -> t, factor t/Q
  std::vector<uint64_t> delta_mod_q;            // floor(Q/t) mod q_i
};

}  // namespace swarm::fhe
