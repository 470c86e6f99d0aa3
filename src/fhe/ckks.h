// CKKS (RNS variant): approximate arithmetic on vectors of N/2 complex (or
// real) slots.
//
// CkksEncoder: canonical embedding. Slot j holds m(zeta^(5^j)) / scale, with
// zeta = exp(i*pi/N); encode is an inverse length-N complex FFT over all odd
// powers of zeta (conjugate slots filled with conjugates, so coefficients are
// real), then rounding to integers mod each q_i.
// CkksEvaluator: add/sub/negate (ciphertexts or plaintexts), multiply
// (ct x ct giving 3 parts, ct x pt, by scalar), relinearize, rescale (divide by
// the last prime with rounding: level - 1, scale / q_level), modulus switching
// (drop primes; scale unchanged), rotate (left by `steps`), conjugate, sum of
// slots, dot product, plain-matrix x encrypted-vector (diagonal method) and
// polynomial evaluation (powers by a binary product tree, depth ceil(log2 d),
// then a level-aligned weighted sum costing one more level; not
// Paterson-Stockmeyer).
//
// Levels and scales: operands at different levels are brought to the lower
// one by modulus switching; scales must agree to 1e-9 relative for add/sub.
// Any operation that would need a level below 0, a scale that no longer fits
// the remaining modulus, or a missing relinearization/Galois key fails with
// an error naming the operation, the level and the scale; nothing is
// computed. All evaluation is deterministic (same inputs, same bytes out).
//
// Thread-safety: encoder and evaluator are immutable after construction and
// may be shared by threads. Keys are held by shared_ptr and never copied.
#pragma once

#include <complex>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "fhe/ciphertext.h"
#include "fhe/encryptor.h"
#include "fhe/keys.h"

namespace swarm::fhe {

inline constexpr size_t kEvalPolynomialDegreeMax = 256;  // O(d) ciphertexts held at once

class CkksEncoder {
 public:
  explicit CkksEncoder(ContextPtr ctx);
  size_t slot_count() const { return ctx_->slot_count(); }

  // Up to slot_count values (missing slots are zero). scale 0 means the
  // context's default; no level means the top level.
  StatusOr<Plaintext> Encode(std::span<const std::complex<double>> values, double scale = 0,
                             std::optional<size_t> level = std::nullopt) const;
  StatusOr<Plaintext> Encode(std::span<const double> values, double scale = 0,
                             std::optional<size_t> level = std::nullopt) const;
  // Every slot = c.
  StatusOr<Plaintext> EncodeConstant(double c, double scale, size_t level) const;
  StatusOr<std::vector<std::complex<double>>> DecodeComplex(const Plaintext& pt) const;
  StatusOr<std::vector<double>> Decode(const Plaintext& pt) const;

 private:
  void Fft(std::vector<std::complex<double>>& a, bool inverse) const;
  ContextPtr ctx_;
  std::vector<std::complex<double>> roots_;  // exp(2*pi*i*k/N)
  std::vector<std::complex<double>> twist_;  // zeta^k, k < N
  std::vector<size_t> slot_index_;           // slot j -> k with 2k+1 = 5^j mod 2N
};

class CkksEvaluator {
 public:
  CkksEvaluator(ContextPtr ctx, std::shared_ptr<const RelinKey> relin = nullptr,
                std::shared_ptr<const GaloisKeys> galois = nullptr);

  StatusOr<Ciphertext> Add(const Ciphertext& a, const Ciphertext& b) const;
  StatusOr<Ciphertext> Sub(const Ciphertext& a, const Ciphertext& b) const;
  StatusOr<Ciphertext> Negate(const Ciphertext& a) const;
  StatusOr<Ciphertext> AddPlain(const Ciphertext& a, const Plaintext& p) const;
  StatusOr<Ciphertext> SubPlain(const Ciphertext& a, const Plaintext& p) const;
  StatusOr<Ciphertext> AddScalar(const Ciphertext& a, double c) const;
  // Result scale = a.scale * p.scale (rescale afterwards).
  StatusOr<Ciphertext> MultiplyPlain(const Ciphertext& a, const Plaintext& p) const;
  // c is encoded at scale q_level, so a following Rescale restores a.scale.
  StatusOr<Ciphertext> MultiplyScalar(const Ciphertext& a, double c) const;
  // 3-part result; scale a.scale * b.scale.
  StatusOr<Ciphertext> Multiply(const Ciphertext& a, const Ciphertext& b) const;
  StatusOr<Ciphertext> Relinearize(const Ciphertext& a) const;
  StatusOr<Ciphertext> MultiplyRelin(const Ciphertext& a, const Ciphertext& b) const;
  // Multiply, relinearize, rescale.
  StatusOr<Ciphertext> MultiplyRelinRescale(const Ciphertext& a, const Ciphertext& b) const;
  StatusOr<Ciphertext> Rescale(const Ciphertext& a) const;
  StatusOr<Ciphertext> ModSwitchTo(const Ciphertext& a, size_t level) const;
  StatusOr<Ciphertext> Rotate(const Ciphertext& a, int steps) const;
  StatusOr<Ciphertext> Conjugate(const Ciphertext& a) const;
  // Every slot = sum of all slots (needs power-of-two rotation keys).
  StatusOr<Ciphertext> SumSlots(const Ciphertext& a) const;
  // Every slot = <a, b> (one level).
  StatusOr<Ciphertext> Dot(const Ciphertext& a, const Ciphertext& b) const;
  // y = M x for a rows x cols plain matrix (row-major) and x in slots
  // [0, cols); all other slots of x must be zero (as Encode leaves them).
  // y is in slots [0, rows), zeros elsewhere. Needs rotation keys for steps 1..d-1 and -d, where d is the
  // next power of two ≥ max(rows, cols) and 2d ≤ slot_count. One level.
  StatusOr<Ciphertext> MatVec(const CkksEncoder& enc, const Ciphertext& x,
                              const std::vector<double>& matrix, size_t rows, size_t cols) const;
  // sum_i coeffs[i] * x^i. Depth ceil(log2 d) + 1 for degree 1 ≤ d ≤
  // kEvalPolynomialDegreeMax.
  StatusOr<Ciphertext> EvalPolynomial(const Ciphertext& x, const std::vector<double>& coeffs) const;
  // What this evaluator's keys allow (to refuse a circuit before any work).
  bool CanRelinearize() const { return relin_ != nullptr; }
  bool CanRotate(int steps) const;
  bool CanConjugate() const;

  // Galois steps MatVec needs for a given shape.
  static std::vector<int> MatVecSteps(size_t rows, size_t cols);

 private:
  Status CheckOperand(const char* op, const Ciphertext& a) const;
  Status CheckPair(const char* op, const Ciphertext& a, const Ciphertext& b) const;
  StatusOr<Ciphertext> ApplyGalois(const char* op, const Ciphertext& a, uint32_t g) const;
  StatusOr<Ciphertext> AddSub(const Ciphertext& a, const Ciphertext& b, bool sub) const;
  StatusOr<Ciphertext> MultiplyConstantPoly(const Ciphertext& a, const std::vector<uint64_t>& per_row,
                                            double factor_scale) const;
  ContextPtr ctx_;
  std::shared_ptr<const RelinKey> relin_;
  std::shared_ptr<const GaloisKeys> galois_;
};

}  // namespace swarm::fhe
