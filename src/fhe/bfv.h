// BFV (RNS variant): exact arithmetic on vectors of N integers mod t.
//
// BfvEncoder (batching): t is a prime ≡ 1 (mod 2N), so Z_t[X]/(X^N+1) splits
// into N slots, seen as a 2 x N/2 matrix: slot j of row 0 is m(psi^(5^j)),
// slot j of row 1 is m(psi^(-5^j)) (psi a primitive 2N-th root mod t); an
// inverse NTT mod t gives the plaintext polynomial. Values are in [0, t), or
// signed in (-t/2, t/2] with the *Signed variants.
// BfvEvaluator: add, sub, negate, plaintext add/sub/multiply, multiply
// (ct x ct, 3 parts) with the Halevi-Polyakov-Shoup RNS method (HPS: exact
// base extension Q -> Q∪R with a floating-point overflow correction, tensor
// product in Q∪R, round(t/Q * x) computed from residues with 128-bit
// fixed-point fractions, exact conversion R -> Q), relinearize, rotate rows
// (left by `steps`, both rows together) and swap the two rows (columns
// rotation).
//
// Noise: every ciphertext carries noise_budget_est_bits, a conservative
// estimate of the invariant noise budget (worst-case growth rules, see
// docs/fhe.md); Decryptor::InvariantNoiseBudget measures the true value. An
// operation whose estimated result budget would be ≤ 0 fails with an error
// naming the operation and both budgets instead of producing a ciphertext that
// decrypts to garbage. BFV ciphertexts stay at the top level (no modulus
// switching).
//
// Thread-safety: encoder and evaluator are immutable after construction and
// may be shared by threads. Evaluation is deterministic.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "fhe/ciphertext.h"
#include "fhe/encryptor.h"
#include "fhe/keys.h"

namespace swarm::fhe {

class BfvEncoder {
 public:
  explicit BfvEncoder(ContextPtr ctx);
  size_t slot_count() const { return ctx_->n(); }
  size_t row_size() const { return ctx_->n() / 2; }
  uint64_t plain_modulus() const { return ctx_->plain_modulus(); }

  // Up to N values, each < t (missing slots are zero).
  StatusOr<Plaintext> Encode(std::span<const uint64_t> values) const;
  // Up to N values in (-t/2, t/2].
  StatusOr<Plaintext> EncodeSigned(std::span<const int64_t> values) const;
  StatusOr<std::vector<uint64_t>> Decode(const Plaintext& pt) const;
  StatusOr<std::vector<int64_t>> DecodeSigned(const Plaintext& pt) const;

 private:
  ContextPtr ctx_;
  std::vector<uint32_t> slot_pos_;  // slot -> NTT position
};

class BfvEvaluator {
 public:
  BfvEvaluator(ContextPtr ctx, std::shared_ptr<const RelinKey> relin = nullptr,
               std::shared_ptr<const GaloisKeys> galois = nullptr);

  StatusOr<Ciphertext> Add(const Ciphertext& a, const Ciphertext& b) const;
  StatusOr<Ciphertext> Sub(const Ciphertext& a, const Ciphertext& b) const;
  StatusOr<Ciphertext> Negate(const Ciphertext& a) const;
  StatusOr<Ciphertext> AddPlain(const Ciphertext& a, const Plaintext& p) const;
  StatusOr<Ciphertext> SubPlain(const Ciphertext& a, const Plaintext& p) const;
  StatusOr<Ciphertext> MultiplyPlain(const Ciphertext& a, const Plaintext& p) const;
  StatusOr<Ciphertext> Multiply(const Ciphertext& a, const Ciphertext& b) const;
  StatusOr<Ciphertext> Relinearize(const Ciphertext& a) const;
  StatusOr<Ciphertext> MultiplyRelin(const Ciphertext& a, const Ciphertext& b) const;
  StatusOr<Ciphertext> RotateRows(const Ciphertext& a, int steps) const;
  StatusOr<Ciphertext> RotateColumns(const Ciphertext& a) const;  // swaps the two rows

  // What this evaluator's keys allow (to refuse a circuit before any work).
  bool CanRelinearize() const { return relin_ != nullptr; }
  bool CanRotateRows(int steps) const;
  bool CanRotateColumns() const;

  // Estimated budget lost per operation (bits), exposed for documentation/tests.
  double MultiplyCostBits() const;
  double MultiplyPlainCostBits() const;

 private:
  Status CheckOperand(const char* op, const Ciphertext& a) const;
  Status CheckPair(const char* op, const Ciphertext& a, const Ciphertext& b) const;
  Status CheckBudget(const char* op, double after, double in1, double in2) const;
  StatusOr<Ciphertext> Galois(const char* op, const Ciphertext& a, uint32_t g) const;
  StatusOr<Ciphertext> AddSub(const Ciphertext& a, const Ciphertext& b, bool sub) const;
  RnsPoly LiftPlain(const Plaintext& p, bool scale_by_delta) const;
  ContextPtr ctx_;
  std::shared_ptr<const RelinKey> relin_;
  std::shared_ptr<const GaloisKeys> galois_;
};

}  // namespace swarm::fhe
