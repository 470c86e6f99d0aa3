#include "fhe/vector.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_format.h"
#include "fhe/serialize.h"

namespace swarm::fhe {
namespace {

constexpr char kMagic[4] = {'S', 'W', 'F', 'V'};
constexpr size_t kVectorHeaderBytes = 4 + 2 + 1 + 1 + 8;

size_t NextPow2(size_t x) {
  size_t d = 1;
  while (d < x) d <<= 1;
  return d;
}

Bytes WireOf(Scheme scheme, size_t size, bool clean, const Context& ctx, const Ciphertext& ct) {
  Bytes out;
  for (char ch : kMagic) out.push_back(static_cast<uint8_t>(ch));
  out.push_back(static_cast<uint8_t>(kVectorWireVersion & 0xff));
  out.push_back(static_cast<uint8_t>(kVectorWireVersion >> 8));
  out.push_back(static_cast<uint8_t>(scheme));
  out.push_back(clean ? 1 : 0);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(static_cast<uint64_t>(size) >> (8 * i)));
  Bytes blob = Serialize(ctx, ct);
  out.insert(out.end(), blob.begin(), blob.end());
  return out;
}

struct Parsed {
  size_t size;
  bool clean;
  Ciphertext ct;
};

StatusOr<Parsed> ParseWire(const VectorContext& vc, Scheme want, ByteSpan in) {
  const char* name = want == Scheme::kCkks ? "ckks vector" : "bfv vector";
  if (in.size() < kVectorHeaderBytes)
    return absl::InvalidArgumentError(absl::StrCat(name, ": ", in.size(), " bytes, shorter than the header"));
  if (std::memcmp(in.data(), kMagic, 4) != 0) return absl::InvalidArgumentError(absl::StrCat(name, ": bad magic"));
  const unsigned version = in[4] | (unsigned{in[5]} << 8);
  if (version != kVectorWireVersion)
    return absl::InvalidArgumentError(absl::StrCat(name, ": version ", version, " is not supported"));
  if (in[6] != static_cast<uint8_t>(want))
    return absl::InvalidArgumentError(absl::StrCat(name, ": scheme byte ", in[6], " is not ", SchemeName(want)));
  if (in[7] > 1) return absl::InvalidArgumentError(absl::StrCat(name, ": flags byte ", in[7], " is not 0 or 1"));
  uint64_t size = 0;
  for (int i = 0; i < 8; ++i) size |= uint64_t{in[8 + i]} << (8 * i);
  if (size == 0 || size > vc.slot_count())
    return absl::InvalidArgumentError(absl::StrCat(name, ": size ", size, " outside 1..", vc.slot_count()));
  auto ct = DeserializeCiphertext(*vc.ctx(), in.subspan(kVectorHeaderBytes));
  if (!ct.ok()) return absl::InvalidArgumentError(absl::StrCat(name, ": ", ct.status().message()));
  if (ct->key_id != vc.keys().key_id)
    return absl::InvalidArgumentError(absl::StrCat(name, ": encrypted under key ", KeyIdHex(ct->key_id),
                                                   ", this context holds ", KeyIdHex(vc.keys().key_id)));
  return Parsed{static_cast<size_t>(size), in[7] == 1, std::move(ct).value()};
}

}  // namespace

// ---------------------------------------------------------------- context

StatusOr<VectorContextPtr> VectorContext::Build(const EvalKeys& keys, std::shared_ptr<const SecretKey> sk) {
  if (!keys.ctx || !keys.public_key) return absl::InvalidArgumentError("vector context: parameters and public key required");
  std::shared_ptr<VectorContext> vc(new VectorContext());
  vc->keys_ = keys;
  SWARM_ASSIGN_OR_RETURN(Encryptor e, Encryptor::Create(keys.ctx, *keys.public_key));
  vc->encryptor_ = std::make_unique<Encryptor>(std::move(e));
  if (sk) {
    SWARM_ASSIGN_OR_RETURN(Decryptor d, Decryptor::Create(keys.ctx, *sk));
    vc->decryptor_ = std::make_unique<Decryptor>(std::move(d));
  }
  if (keys.ctx->scheme() == Scheme::kCkks) {
    vc->ckks_encoder_ = std::make_unique<CkksEncoder>(keys.ctx);
    vc->ckks_ = std::make_unique<CkksEvaluator>(keys.ctx, keys.relin_key, keys.galois_keys);
  } else {
    vc->bfv_encoder_ = std::make_unique<BfvEncoder>(keys.ctx);
    vc->bfv_ = std::make_unique<BfvEvaluator>(keys.ctx, keys.relin_key, keys.galois_keys);
  }
  return VectorContextPtr(std::move(vc));
}

StatusOr<VectorContextPtr> VectorContext::Create(const KeySet& keys) { return Build(keys.eval, keys.secret_key); }
StatusOr<VectorContextPtr> VectorContext::Create(const EvalKeys& keys) { return Build(keys, nullptr); }
StatusOr<VectorContextPtr> VectorContext::Generate(const ParamSpec& spec, const KeyGenOptions& options) {
  SWARM_ASSIGN_OR_RETURN(KeySet ks, GenerateKeySet(spec, options));
  return Create(ks);
}

size_t VectorContext::slot_count() const {
  return keys_.ctx->scheme() == Scheme::kCkks ? keys_.ctx->slot_count() : keys_.ctx->n();
}

StatusOr<Ciphertext> VectorContext::EncryptPlain(const Plaintext& pt) const {
  std::lock_guard<std::mutex> lock(encrypt_mu_);
  return encryptor_->Encrypt(pt);
}

StatusOr<Plaintext> VectorContext::DecryptCt(const Ciphertext& ct) const {
  if (!decryptor_) return absl::FailedPreconditionError("decrypt: this vector context holds no secret key");
  return decryptor_->Decrypt(ct);
}

// ---------------------------------------------------------------- CKKS

StatusOr<CkksVector> CkksVector::Encrypt(VectorContextPtr vc, std::span<const double> values) {
  if (!vc || !vc->ckks()) return absl::InvalidArgumentError("ckks vector: needs a CKKS vector context");
  if (values.empty()) return absl::InvalidArgumentError("ckks vector: no values");
  SWARM_ASSIGN_OR_RETURN(Plaintext pt, vc->ckks_encoder()->Encode(values));
  SWARM_ASSIGN_OR_RETURN(Ciphertext ct, vc->EncryptPlain(pt));
  return CkksVector(std::move(vc), std::move(ct), values.size(), true);
}

StatusOr<CkksVector> CkksVector::Deserialize(VectorContextPtr vc, ByteSpan wire) {
  if (!vc || !vc->ckks()) return absl::InvalidArgumentError("ckks vector: needs a CKKS vector context");
  SWARM_ASSIGN_OR_RETURN(Parsed p, ParseWire(*vc, Scheme::kCkks, wire));
  return CkksVector(std::move(vc), std::move(p.ct), p.size, p.clean);
}

Bytes CkksVector::Serialize() const { return WireOf(Scheme::kCkks, size_, clean_, *vc_->ctx(), ct_); }

Status CkksVector::SameShape(const char* op, size_t other) const {
  if (other != size_)
    return absl::InvalidArgumentError(absl::StrCat("ckks vector ", op, ": sizes differ (", size_, " vs ", other, ")"));
  return absl::OkStatus();
}

StatusOr<Plaintext> CkksVector::EncodeAt(const char* op, std::span<const double> plain, double scale, size_t level) const {
  SWARM_RETURN_IF_ERROR(SameShape(op, plain.size()));
  return vc_->ckks_encoder()->Encode(plain, scale, level);
}

StatusOr<CkksVector> CkksVector::Add(const CkksVector& o) const {
  SWARM_RETURN_IF_ERROR(SameShape("add", o.size_));
  SWARM_ASSIGN_OR_RETURN(Ciphertext r, vc_->ckks()->Add(ct_, o.ct_));
  return With(std::move(r), size_, clean_ && o.clean_);
}
StatusOr<CkksVector> CkksVector::Sub(const CkksVector& o) const {
  SWARM_RETURN_IF_ERROR(SameShape("sub", o.size_));
  SWARM_ASSIGN_OR_RETURN(Ciphertext r, vc_->ckks()->Sub(ct_, o.ct_));
  return With(std::move(r), size_, clean_ && o.clean_);
}
StatusOr<CkksVector> CkksVector::AddSubPlain(const char* op, std::span<const double> plain, bool sub) const {
  SWARM_ASSIGN_OR_RETURN(Plaintext p, EncodeAt(op, plain, ct_.scale, ct_.level));
  SWARM_ASSIGN_OR_RETURN(Ciphertext r, sub ? vc_->ckks()->SubPlain(ct_, p) : vc_->ckks()->AddPlain(ct_, p));
  return With(std::move(r), size_, clean_);
}
StatusOr<CkksVector> CkksVector::Add(std::span<const double> plain) const { return AddSubPlain("add", plain, false); }
StatusOr<CkksVector> CkksVector::Sub(std::span<const double> plain) const { return AddSubPlain("sub", plain, true); }
StatusOr<CkksVector> CkksVector::Add(double c) const {
  std::vector<double> v(size_, c);
  return AddSubPlain("add", v, false);
}
StatusOr<CkksVector> CkksVector::Sub(double c) const {
  std::vector<double> v(size_, c);
  return AddSubPlain("sub", v, true);
}

StatusOr<CkksVector> CkksVector::Mul(const CkksVector& o) const {
  SWARM_RETURN_IF_ERROR(SameShape("mul", o.size_));
  SWARM_ASSIGN_OR_RETURN(Ciphertext r, vc_->ckks()->MultiplyRelinRescale(ct_, o.ct_));
  return With(std::move(r), size_, clean_ || o.clean_);
}

StatusOr<CkksVector> CkksVector::Mul(std::span<const double> plain) const {
  if (ct_.level == 0)
    return absl::FailedPreconditionError(absl::StrFormat(
        "ckks vector mul: ciphertext is at level 0 (scale 2^%.1f); no level left to rescale", std::log2(ct_.scale)));
  const double q = static_cast<double>(vc_->ctx()->modulus(ct_.level).value());
  SWARM_ASSIGN_OR_RETURN(Plaintext p, EncodeAt("mul", plain, q, ct_.level));
  SWARM_ASSIGN_OR_RETURN(Ciphertext m, vc_->ckks()->MultiplyPlain(ct_, p));
  SWARM_ASSIGN_OR_RETURN(Ciphertext r, vc_->ckks()->Rescale(m));
  r.scale = ct_.scale;  // exactly s * q / q
  return With(std::move(r), size_, true);  // the plain operand is zero outside [0, size)
}

StatusOr<CkksVector> CkksVector::Mul(double c) const {
  std::vector<double> v(size_, c);
  return Mul(std::span<const double>(v));
}

StatusOr<CkksVector> CkksVector::Negate() const {
  SWARM_ASSIGN_OR_RETURN(Ciphertext r, vc_->ckks()->Negate(ct_));
  return With(std::move(r), size_, clean_);
}

StatusOr<Ciphertext> CkksVector::Masked() const {
  if (clean_) return ct_;
  std::vector<double> ones(size_, 1.0);
  SWARM_ASSIGN_OR_RETURN(CkksVector m, Mul(std::span<const double>(ones)));
  return m.ct_;
}

StatusOr<CkksVector> CkksVector::SumOf(Ciphertext acc) const {
  // Slots >= size are zero, so slot 0 of acc + rot(acc,1) + ... over d = nextpow2(size) is the sum.
  const size_t d = NextPow2(size_);
  for (size_t k = 1; k < d; k <<= 1) {
    SWARM_ASSIGN_OR_RETURN(Ciphertext rot, vc_->ckks()->Rotate(acc, static_cast<int>(k)));
    SWARM_ASSIGN_OR_RETURN(acc, vc_->ckks()->Add(acc, rot));
  }
  return With(std::move(acc), 1, d == 1);
}

StatusOr<CkksVector> CkksVector::Sum() const {
  SWARM_ASSIGN_OR_RETURN(Ciphertext c, Masked());
  return SumOf(std::move(c));
}

StatusOr<CkksVector> CkksVector::Dot(const CkksVector& o) const {
  SWARM_ASSIGN_OR_RETURN(CkksVector m, Mul(o));
  return m.Sum();
}

StatusOr<CkksVector> CkksVector::Dot(std::span<const double> plain) const {
  SWARM_ASSIGN_OR_RETURN(CkksVector m, Mul(plain));
  return m.Sum();
}

std::vector<int> CkksVector::MatMulSteps(size_t size, size_t out) { return CkksEvaluator::MatVecSteps(out, size); }

StatusOr<CkksVector> CkksVector::MatMul(const std::vector<double>& matrix, size_t out) const {
  if (out == 0 || matrix.size() != size_ * out)
    return absl::InvalidArgumentError(absl::StrCat("ckks vector matmul: matrix has ", matrix.size(),
                                                   " entries, expected size x out = ", size_, " x ", out));
  // y_j = sum_i x_i M[i][j]  =  (M^T x)_j.
  std::vector<double> mt(out * size_);
  for (size_t i = 0; i < size_; ++i)
    for (size_t j = 0; j < out; ++j) mt[j * size_ + i] = matrix[i * out + j];
  SWARM_ASSIGN_OR_RETURN(Ciphertext x, Masked());
  SWARM_ASSIGN_OR_RETURN(Ciphertext y, vc_->ckks()->MatVec(*vc_->ckks_encoder(), x, mt, out, size_));
  return With(std::move(y), out, true);
}

StatusOr<CkksVector> CkksVector::Polyval(const std::vector<double>& coeffs) const {
  SWARM_ASSIGN_OR_RETURN(Ciphertext r, vc_->ckks()->EvalPolynomial(ct_, coeffs));
  const bool clean = clean_ && (coeffs.empty() || coeffs[0] == 0);
  return With(std::move(r), size_, clean);
}

StatusOr<CkksVector> CkksVector::Rotate(int steps) const {
  SWARM_ASSIGN_OR_RETURN(Ciphertext r, vc_->ckks()->Rotate(ct_, steps));
  return With(std::move(r), size_, false);
}

StatusOr<std::vector<double>> CkksVector::Decrypt() const {
  SWARM_ASSIGN_OR_RETURN(Plaintext p, vc_->DecryptCt(ct_));
  SWARM_ASSIGN_OR_RETURN(std::vector<double> v, vc_->ckks_encoder()->Decode(p));
  v.resize(size_);
  return v;
}

// ---------------------------------------------------------------- BFV

StatusOr<BfvVector> BfvVector::Encrypt(VectorContextPtr vc, std::span<const int64_t> values) {
  if (!vc || !vc->bfv()) return absl::InvalidArgumentError("bfv vector: needs a BFV vector context");
  if (values.empty()) return absl::InvalidArgumentError("bfv vector: no values");
  SWARM_ASSIGN_OR_RETURN(Plaintext pt, vc->bfv_encoder()->EncodeSigned(values));
  SWARM_ASSIGN_OR_RETURN(Ciphertext ct, vc->EncryptPlain(pt));
  return BfvVector(std::move(vc), std::move(ct), values.size(), true);
}

StatusOr<BfvVector> BfvVector::Deserialize(VectorContextPtr vc, ByteSpan wire) {
  if (!vc || !vc->bfv()) return absl::InvalidArgumentError("bfv vector: needs a BFV vector context");
  SWARM_ASSIGN_OR_RETURN(Parsed p, ParseWire(*vc, Scheme::kBfv, wire));
  return BfvVector(std::move(vc), std::move(p.ct), p.size, p.clean);
}

Bytes BfvVector::Serialize() const { return WireOf(Scheme::kBfv, size_, clean_, *vc_->ctx(), ct_); }

Status BfvVector::SameShape(const char* op, size_t other) const {
  if (other != size_)
    return absl::InvalidArgumentError(absl::StrCat("bfv vector ", op, ": sizes differ (", size_, " vs ", other, ")"));
  return absl::OkStatus();
}

StatusOr<Plaintext> BfvVector::EncodePlain(const char* op, std::span<const int64_t> plain) const {
  SWARM_RETURN_IF_ERROR(SameShape(op, plain.size()));
  return vc_->bfv_encoder()->EncodeSigned(plain);
}

StatusOr<BfvVector> BfvVector::Add(const BfvVector& o) const {
  SWARM_RETURN_IF_ERROR(SameShape("add", o.size_));
  SWARM_ASSIGN_OR_RETURN(Ciphertext r, vc_->bfv()->Add(ct_, o.ct_));
  return With(std::move(r), size_, clean_ && o.clean_);
}
StatusOr<BfvVector> BfvVector::Sub(const BfvVector& o) const {
  SWARM_RETURN_IF_ERROR(SameShape("sub", o.size_));
  SWARM_ASSIGN_OR_RETURN(Ciphertext r, vc_->bfv()->Sub(ct_, o.ct_));
  return With(std::move(r), size_, clean_ && o.clean_);
}
StatusOr<BfvVector> BfvVector::Add(std::span<const int64_t> plain) const {
  SWARM_ASSIGN_OR_RETURN(Plaintext p, EncodePlain("add", plain));
  SWARM_ASSIGN_OR_RETURN(Ciphertext r, vc_->bfv()->AddPlain(ct_, p));
  return With(std::move(r), size_, clean_);
}
StatusOr<BfvVector> BfvVector::Sub(std::span<const int64_t> plain) const {
  SWARM_ASSIGN_OR_RETURN(Plaintext p, EncodePlain("sub", plain));
  SWARM_ASSIGN_OR_RETURN(Ciphertext r, vc_->bfv()->SubPlain(ct_, p));
  return With(std::move(r), size_, clean_);
}
StatusOr<BfvVector> BfvVector::Mul(const BfvVector& o) const {
  SWARM_RETURN_IF_ERROR(SameShape("mul", o.size_));
  SWARM_ASSIGN_OR_RETURN(Ciphertext r, vc_->bfv()->MultiplyRelin(ct_, o.ct_));
  return With(std::move(r), size_, clean_ || o.clean_);
}
StatusOr<BfvVector> BfvVector::Mul(std::span<const int64_t> plain) const {
  SWARM_ASSIGN_OR_RETURN(Plaintext p, EncodePlain("mul", plain));
  SWARM_ASSIGN_OR_RETURN(Ciphertext r, vc_->bfv()->MultiplyPlain(ct_, p));
  return With(std::move(r), size_, true);
}
StatusOr<BfvVector> BfvVector::Mul(int64_t c) const {
  std::vector<int64_t> v(size_, c);
  return Mul(std::span<const int64_t>(v));
}
StatusOr<BfvVector> BfvVector::Negate() const {
  SWARM_ASSIGN_OR_RETURN(Ciphertext r, vc_->bfv()->Negate(ct_));
  return With(std::move(r), size_, clean_);
}

StatusOr<BfvVector> BfvVector::Sum() const {
  Ciphertext acc = ct_;
  if (!clean_) {
    std::vector<int64_t> ones(size_, 1);
    SWARM_ASSIGN_OR_RETURN(BfvVector m, Mul(std::span<const int64_t>(ones)));
    acc = m.ct_;
  }
  // Row rotations sum each row (of N/2 slots) into its slot 0; the column
  // rotation adds row 1 into row 0 when the vector spills into it.
  const size_t row = vc_->ctx()->n() / 2;
  const size_t d = NextPow2(std::min(size_, row));
  for (size_t k = 1; k < d; k <<= 1) {
    SWARM_ASSIGN_OR_RETURN(Ciphertext rot, vc_->bfv()->RotateRows(acc, static_cast<int>(k)));
    SWARM_ASSIGN_OR_RETURN(acc, vc_->bfv()->Add(acc, rot));
  }
  if (size_ > row) {
    SWARM_ASSIGN_OR_RETURN(Ciphertext sw, vc_->bfv()->RotateColumns(acc));
    SWARM_ASSIGN_OR_RETURN(acc, vc_->bfv()->Add(acc, sw));
  }
  return With(std::move(acc), 1, d == 1 && size_ <= row);
}

StatusOr<BfvVector> BfvVector::Dot(const BfvVector& o) const {
  SWARM_ASSIGN_OR_RETURN(BfvVector m, Mul(o));
  return m.Sum();
}

StatusOr<BfvVector> BfvVector::Rotate(int steps) const {
  SWARM_ASSIGN_OR_RETURN(Ciphertext r, vc_->bfv()->RotateRows(ct_, steps));
  return With(std::move(r), size_, false);
}

StatusOr<std::vector<int64_t>> BfvVector::Decrypt() const {
  SWARM_ASSIGN_OR_RETURN(Plaintext p, vc_->DecryptCt(ct_));
  SWARM_ASSIGN_OR_RETURN(std::vector<int64_t> v, vc_->bfv_encoder()->DecodeSigned(p));
  v.resize(size_);
  return v;
}

}  // namespace swarm::fhe
