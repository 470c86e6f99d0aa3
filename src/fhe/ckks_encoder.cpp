#include <gmpxx.h>

#include <cmath>

#include "fhe/ckks.h"
#include "fhe/rns_util.h"
#include "absl/strings/str_format.h"

namespace swarm::fhe {

CkksEncoder::CkksEncoder(ContextPtr ctx) : ctx_(std::move(ctx)) {
  const size_t n = ctx_->n();
  roots_.resize(n);
  twist_.resize(n);
  for (size_t k = 0; k < n; ++k) {
    roots_[k] = std::polar(1.0, 2.0 * M_PI * static_cast<double>(k) / static_cast<double>(n));
    twist_[k] = std::polar(1.0, M_PI * static_cast<double>(k) / static_cast<double>(n));
  }
  const uint64_t mask = 2 * n - 1;
  uint64_t g = 1;
  slot_index_.resize(n / 2);
  for (size_t j = 0; j < n / 2; ++j) {
    slot_index_[j] = static_cast<size_t>((g - 1) / 2);
    g = (g * 5) & mask;
  }
}

void CkksEncoder::Fft(std::vector<std::complex<double>>& a, bool inverse) const {
  const size_t n = a.size();
  const int log_n = __builtin_ctzll(n);
  for (size_t i = 0; i < n; ++i) {
    const size_t j = BitReverse(static_cast<uint32_t>(i), log_n);
    if (i < j) std::swap(a[i], a[j]);
  }
  for (size_t len = 2; len <= n; len <<= 1) {
    const size_t step = n / len;
    for (size_t i = 0; i < n; i += len) {
      for (size_t j = 0; j < len / 2; ++j) {
        // Written out: std::complex operator* calls __muldc3 for NaN/inf handling.
        const double wr = roots_[j * step].real(), wi = inverse ? -roots_[j * step].imag() : roots_[j * step].imag();
        const std::complex<double> u = a[i + j], x = a[i + j + len / 2];
        const std::complex<double> v(x.real() * wr - x.imag() * wi, x.real() * wi + x.imag() * wr);
        a[i + j] = u + v;
        a[i + j + len / 2] = u - v;
      }
    }
  }
}

StatusOr<Plaintext> CkksEncoder::Encode(std::span<const double> values, double scale,
                                        std::optional<size_t> level) const {
  std::vector<std::complex<double>> c(values.begin(), values.end());
  return Encode(std::span<const std::complex<double>>(c), scale, level);
}

StatusOr<Plaintext> CkksEncoder::Encode(std::span<const std::complex<double>> values, double scale,
                                        std::optional<size_t> level) const {
  const Context& c = *ctx_;
  const size_t n = c.n();
  if (scale == 0) scale = c.spec().scale;
  const size_t lvl = level.value_or(c.max_level());
  if (lvl > c.max_level()) return absl::InvalidArgumentError(absl::StrCat("encode: level ", lvl, " above max level ", c.max_level()));
  if (values.size() > c.slot_count()) {
    return absl::InvalidArgumentError(absl::StrCat("encode: ", values.size(), " values but only ", c.slot_count(), " slots"));
  }
  if (!(scale >= 1.0) || !std::isfinite(scale)) return absl::InvalidArgumentError(absl::StrCat("encode: scale ", scale, " invalid"));
  std::vector<std::complex<double>> e(n, {0.0, 0.0});
  for (size_t j = 0; j < values.size(); ++j) {
    if (!std::isfinite(values[j].real()) || !std::isfinite(values[j].imag())) {
      return absl::InvalidArgumentError(absl::StrCat("encode: value ", j, " is not finite"));
    }
    const size_t k = slot_index_[j];
    e[k] = values[j];
    e[n - 1 - k] = std::conj(values[j]);
  }
  Fft(e, /*inverse=*/true);
  std::vector<double> coeff(n);
  double max_abs = 0;
  const double inv_n = 1.0 / static_cast<double>(n);
  for (size_t i = 0; i < n; ++i) {
    const double re = e[i].real() * twist_[i].real() + e[i].imag() * twist_[i].imag();  // Re(e * conj(zeta^i))
    coeff[i] = std::round(re * inv_n * scale);
    max_abs = std::max(max_abs, std::fabs(coeff[i]));
  }
  const double log2_q = c.log2_q_at(lvl);
  if (max_abs > 0 && std::log2(max_abs) + 1 >= log2_q) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "encode: values times scale reach 2^%.1f, beyond the modulus at level %d (2^%.1f)", std::log2(max_abs), lvl, log2_q));
  }
  Plaintext pt;
  pt.scheme = Scheme::kCkks;
  pt.level = lvl;
  pt.scale = scale;
  pt.param_hash = c.hash();
  const Basis b = DataBasis(lvl);
  pt.poly = RnsPoly(n, b.size());
  for (size_t r = 0; r < b.size(); ++r) {
    const Modulus& m = c.modulus(r);
    uint64_t* row = pt.poly.row(r);
    for (size_t i = 0; i < n; ++i) row[i] = ReduceIntegralDouble(coeff[i], m);
  }
  ToNtt(c, b, pt.poly);
  return pt;
}

StatusOr<Plaintext> CkksEncoder::EncodeConstant(double value, double scale, size_t level) const {
  const Context& c = *ctx_;
  if (level > c.max_level()) return absl::InvalidArgumentError(absl::StrCat("encode: level ", level, " above max level ", c.max_level()));
  const double v = std::round(value * scale);
  if (!std::isfinite(v) || (v != 0 && std::log2(std::fabs(v)) + 1 >= c.log2_q_at(level))) {
    return absl::InvalidArgumentError(absl::StrCat("encode: constant ", value, " times scale ", scale, " does not fit level ", level));
  }
  Plaintext pt;
  pt.scheme = Scheme::kCkks;
  pt.level = level;
  pt.scale = scale;
  pt.param_hash = c.hash();
  pt.poly = RnsPoly(c.n(), level + 1);
  for (size_t r = 0; r <= level; ++r) {
    const uint64_t x = ReduceIntegralDouble(v, c.modulus(r));
    std::fill(pt.poly.row(r), pt.poly.row(r) + c.n(), x);  // NTT of a constant is constant
  }
  return pt;
}

StatusOr<std::vector<std::complex<double>>> CkksEncoder::DecodeComplex(const Plaintext& pt) const {
  const Context& c = *ctx_;
  SWARM_RETURN_IF_ERROR(ValidatePlaintext(c, pt));
  const size_t n = c.n();
  RnsPoly p = pt.poly;
  const Basis b = DataBasis(pt.level);
  FromNtt(c, b, p);
  std::vector<double> coeff = CenteredToDouble(c, p, pt.level);
  std::vector<std::complex<double>> e(n);
  const double inv_scale = 1.0 / pt.scale;
  for (size_t i = 0; i < n; ++i) e[i] = coeff[i] * inv_scale * twist_[i];
  Fft(e, /*inverse=*/false);
  std::vector<std::complex<double>> out(n / 2);
  for (size_t j = 0; j < n / 2; ++j) out[j] = e[slot_index_[j]];
  return out;
}

StatusOr<std::vector<double>> CkksEncoder::Decode(const Plaintext& pt) const {
  SWARM_ASSIGN_OR_RETURN(auto z, DecodeComplex(pt));
  std::vector<double> out(z.size());
  for (size_t i = 0; i < z.size(); ++i) out[i] = z[i].real();
  return out;
}

}  // namespace swarm::fhe
