// A client API shaped like TenSEAL's vectors: CkksVector (approximate reals)
// and BfvVector (exact integers mod t) over a VectorContext that bundles
// parameters, keys, encoder, encryptor and evaluator (TenSEAL's ts.context).
//
//   auto vc = *VectorContext::Create(*LoadKeySet("keys/"));   // or Generate(spec, opts)
//   auto x = *CkksVector::Encrypt(vc, {1.0, 2.0, 3.0});
//   auto y = *x.Mul(x)->Add(std::vector<double>{1, 1, 1});   // x*x + 1
//   double s = (*y.Sum()->Decrypt())[0];
//   Bytes wire = y.Serialize();  auto back = *CkksVector::Deserialize(vc, wire);
//
// A vector of `size` values uses slots [0, size) of one ciphertext (size ≤
// N/2 for CKKS, ≤ N for BFV); the other slots are padding. Operations keep the
// padding zero where they can (plain operands and scalars are encoded only
// into the first `size` slots); Polyval with a constant term and Sum/Dot make
// it nonzero, and the vector records that (padding_clean()). Sum, Dot and
// MatMul on a vector whose padding is not clean first multiply by a 0/1 mask
// (CKKS: one extra level).
//
// Semantics (CKKS): Mul(vector) multiplies, relinearizes and rescales (one
// level); Mul(plain)/Mul(scalar) encode the plain operand at scale q_level and
// rescale, so the scale is unchanged (one level). Add/Sub need operands of equal
// scale (a product's scale s^2/q differs from a fresh s: fails with the
// evaluator's error). Sum/Dot return a vector of size 1 (needs Galois keys for
// left rotations by 1, 2, 4, ... < size: `swarm fhe keygen --rotations pow2`).
// MatMul(M, out) is TenSEAL's vector-matrix product: result_j = Σ_i x_i M[i][j]
// for M of size x out (row-major), one level, Galois keys MatMulSteps(size, out).
// Polyval(c) = Σ c_k x^k. Rotate(k) rotates the whole slot array left by k
// (within [0, size) a shift by k, zeros or padding coming in).
// BFV: the same names; Mul(vector) multiplies and relinearizes; no MatMul or
// Polyval; Sum also needs the column-rotation (conjugation) key when
// size > N/2.
//
// Errors: absl::Status naming the operation and operand (sizes that differ,
// too many values, a missing key, exhausted levels or noise budget, Decrypt
// without a secret key). Thread-safety: a VectorContext is safe to share
// between threads (its encryptor is behind a mutex); vectors are immutable
// values, every operation returns a new one.
#pragma once

#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "common/bytes.h"
#include "fhe/bfv.h"
#include "fhe/ckks.h"
#include "fhe/keyset.h"

namespace swarm::fhe {

inline constexpr uint16_t kVectorWireVersion = 1;

class VectorContext {
 public:
  // With the secret key (can decrypt) or evaluation keys only.
  static StatusOr<std::shared_ptr<const VectorContext>> Create(const KeySet& keys);
  static StatusOr<std::shared_ptr<const VectorContext>> Create(const EvalKeys& keys);
  // Fresh keys (random) for `spec`.
  static StatusOr<std::shared_ptr<const VectorContext>> Generate(const ParamSpec& spec,
                                                                 const KeyGenOptions& options = {});

  const ContextPtr& ctx() const { return keys_.ctx; }
  const EvalKeys& keys() const { return keys_; }
  bool can_decrypt() const { return decryptor_ != nullptr; }
  size_t slot_count() const;

  // Internals used by the vector classes.
  StatusOr<Ciphertext> EncryptPlain(const Plaintext& pt) const;
  StatusOr<Plaintext> DecryptCt(const Ciphertext& ct) const;
  const CkksEncoder* ckks_encoder() const { return ckks_encoder_.get(); }
  const CkksEvaluator* ckks() const { return ckks_.get(); }
  const BfvEncoder* bfv_encoder() const { return bfv_encoder_.get(); }
  const BfvEvaluator* bfv() const { return bfv_.get(); }

 private:
  VectorContext() = default;
  static StatusOr<std::shared_ptr<const VectorContext>> Build(const EvalKeys& keys,
                                                              std::shared_ptr<const SecretKey> sk);
  EvalKeys keys_;
  mutable std::mutex encrypt_mu_;
  std::unique_ptr<Encryptor> encryptor_;  // guarded by encrypt_mu_
  std::unique_ptr<Decryptor> decryptor_;
  std::unique_ptr<CkksEncoder> ckks_encoder_;
  std::unique_ptr<CkksEvaluator> ckks_;
  std::unique_ptr<BfvEncoder> bfv_encoder_;
  std::unique_ptr<BfvEvaluator> bfv_;
};

using VectorContextPtr = std::shared_ptr<const VectorContext>;

class CkksVector {
 public:
  static StatusOr<CkksVector> Encrypt(VectorContextPtr vc, std::span<const double> values);
  static StatusOr<CkksVector> Deserialize(VectorContextPtr vc, ByteSpan wire);

  size_t size() const { return size_; }
  bool padding_clean() const { return clean_; }
  const Ciphertext& ciphertext() const { return ct_; }

  StatusOr<CkksVector> Add(const CkksVector& o) const;
  StatusOr<CkksVector> Add(std::span<const double> plain) const;
  StatusOr<CkksVector> Add(double c) const;
  StatusOr<CkksVector> Sub(const CkksVector& o) const;
  StatusOr<CkksVector> Sub(std::span<const double> plain) const;
  StatusOr<CkksVector> Sub(double c) const;
  StatusOr<CkksVector> Mul(const CkksVector& o) const;
  StatusOr<CkksVector> Mul(std::span<const double> plain) const;
  StatusOr<CkksVector> Mul(double c) const;
  StatusOr<CkksVector> Negate() const;
  StatusOr<CkksVector> Sum() const;
  StatusOr<CkksVector> Dot(const CkksVector& o) const;
  StatusOr<CkksVector> Dot(std::span<const double> plain) const;
  StatusOr<CkksVector> MatMul(const std::vector<double>& matrix, size_t out) const;
  StatusOr<CkksVector> Polyval(const std::vector<double>& coeffs) const;
  StatusOr<CkksVector> Rotate(int steps) const;
  StatusOr<std::vector<double>> Decrypt() const;
  Bytes Serialize() const;

  // Galois steps MatMul needs for an input of `size` and `out` outputs.
  static std::vector<int> MatMulSteps(size_t size, size_t out);

 private:
  CkksVector(VectorContextPtr vc, Ciphertext ct, size_t size, bool clean)
      : vc_(std::move(vc)), ct_(std::move(ct)), size_(size), clean_(clean) {}
  CkksVector With(Ciphertext ct, size_t size, bool clean) const { return CkksVector(vc_, std::move(ct), size, clean); }
  Status SameShape(const char* op, size_t other) const;
  StatusOr<Plaintext> EncodeAt(const char* op, std::span<const double> plain, double scale, size_t level) const;
  StatusOr<CkksVector> AddSubPlain(const char* op, std::span<const double> plain, bool sub) const;
  StatusOr<Ciphertext> Masked() const;  // padding zeroed (one level) unless already clean
  StatusOr<CkksVector> SumOf(Ciphertext ct) const;
  VectorContextPtr vc_;
  Ciphertext ct_;
  size_t size_ = 0;
  bool clean_ = true;
};

class BfvVector {
 public:
  static StatusOr<BfvVector> Encrypt(VectorContextPtr vc, std::span<const int64_t> values);
  static StatusOr<BfvVector> Deserialize(VectorContextPtr vc, ByteSpan wire);

  size_t size() const { return size_; }
  bool padding_clean() const { return clean_; }
  const Ciphertext& ciphertext() const { return ct_; }

  StatusOr<BfvVector> Add(const BfvVector& o) const;
  StatusOr<BfvVector> Add(std::span<const int64_t> plain) const;
  StatusOr<BfvVector> Sub(const BfvVector& o) const;
  StatusOr<BfvVector> Sub(std::span<const int64_t> plain) const;
  StatusOr<BfvVector> Mul(const BfvVector& o) const;
  StatusOr<BfvVector> Mul(std::span<const int64_t> plain) const;
  StatusOr<BfvVector> Mul(int64_t c) const;
  StatusOr<BfvVector> Negate() const;
  StatusOr<BfvVector> Sum() const;
  StatusOr<BfvVector> Dot(const BfvVector& o) const;
  StatusOr<BfvVector> Rotate(int steps) const;
  StatusOr<std::vector<int64_t>> Decrypt() const;
  Bytes Serialize() const;

 private:
  BfvVector(VectorContextPtr vc, Ciphertext ct, size_t size, bool clean)
      : vc_(std::move(vc)), ct_(std::move(ct)), size_(size), clean_(clean) {}
  BfvVector With(Ciphertext ct, size_t size, bool clean) const { return BfvVector(vc_, std::move(ct), size, clean); }
  Status SameShape(const char* op, size_t other) const;
  StatusOr<Plaintext> EncodePlain(const char* op, std::span<const int64_t> plain) const;
  VectorContextPtr vc_;
  Ciphertext ct_;
  size_t size_ = 0;
  bool clean_ = true;
};

}  // namespace swarm::fhe
