// Highway kernels of poly_simd.h, with run-time dispatch like ntt_simd.cpp.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "fhe/poly_simd.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"

#include "fhe/poly_simd.h"

HWY_BEFORE_NAMESPACE();
namespace swarm::fhe::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3

using D = hn::ScalableTag<uint64_t>;
using V = hn::Vec<D>;

// The 128-bit products a*b per lane as (hi, lo), from four 32x32 products.
HWY_INLINE void Mul128(D d, V a, V b, V& hi, V& lo) {
  const hn::Repartition<uint32_t, D> d32;
  const V mask = hn::Set(d, 0xFFFFFFFFull);
  const auto a_lo = hn::BitCast(d32, a), b_lo = hn::BitCast(d32, b);
  const auto a_hi = hn::BitCast(d32, hn::ShiftRight<32>(a));
  const auto b_hi = hn::BitCast(d32, hn::ShiftRight<32>(b));
  const V ll = hn::MulEven(a_lo, b_lo);
  const V lh = hn::MulEven(a_lo, b_hi);
  const V hl = hn::MulEven(a_hi, b_lo);
  const V hh = hn::MulEven(a_hi, b_hi);
  const V mid = hn::ShiftRight<32>(ll) + hn::And(lh, mask) + hn::And(hl, mask);
  hi = hh + hn::ShiftRight<32>(lh) + hn::ShiftRight<32>(hl) + hn::ShiftRight<32>(mid);
  lo = hn::Or(hn::And(ll, mask), hn::ShiftLeft<32>(mid));
}

HWY_INLINE V MulLow64(V a, V b) {
  const hn::Repartition<uint32_t, D> d32;
  const auto a_lo = hn::BitCast(d32, a), b_lo = hn::BitCast(d32, b);
  const auto a_hi = hn::BitCast(d32, hn::ShiftRight<32>(a));
  const auto b_hi = hn::BitCast(d32, hn::ShiftRight<32>(b));
  const V ll = hn::MulEven(a_lo, b_lo);
  const V cross = hn::MulEven(a_lo, b_hi) + hn::MulEven(a_hi, b_lo);
  return ll + hn::ShiftLeft<32>(cross);
}

HWY_INLINE V CondSub(V x, V m) { return hn::Min(x, x - m); }

struct Barrett {
  int k = 0;  // q < 2^k
  uint64_t mu = 0;
};

// (hi, lo) < q^2 + q  ->  value mod q.
HWY_INLINE V Reduce(D d, V hi, V lo, const Barrett& b, V vq, V vmu) {
  (void)d;
  const V t = hn::Or(hn::ShiftLeftSame(hi, 65 - b.k), hn::ShiftRightSame(lo, b.k - 1));
  V ph, pl;
  Mul128(d, t, vmu, ph, pl);
  const V qhat = hn::Or(hn::ShiftLeftSame(ph, 63 - b.k), hn::ShiftRightSame(pl, b.k + 1));
  const V r = lo - MulLow64(qhat, vq);
  return CondSub(CondSub(r, vq), vq);
}

HWY_INLINE bool MakeBarrett(uint64_t q, Barrett& b) {
  if (q < 3 || q >= (uint64_t{1} << 61)) return false;
  b.k = 64 - __builtin_clzll(q);
  b.mu = static_cast<uint64_t>((static_cast<unsigned __int128>(1) << (2 * b.k)) / q);
  return true;
}

bool MulModImpl(uint64_t q, const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n) {
  const D d;
  const size_t lanes = hn::Lanes(d);
  Barrett br;
  if (lanes < 8 || n % lanes != 0 || !MakeBarrett(q, br)) return false;
  const V vq = hn::Set(d, q), vmu = hn::Set(d, br.mu);
  for (size_t i = 0; i < n; i += lanes) {
    V hi, lo;
    Mul128(d, hn::LoadU(d, a + i), hn::LoadU(d, b + i), hi, lo);
    hn::StoreU(Reduce(d, hi, lo, br, vq, vmu), d, out + i);
  }
  return true;
}

bool MulAccModImpl(uint64_t q, const uint64_t* x, const uint64_t* y, uint64_t* acc, size_t n) {
  const D d;
  const size_t lanes = hn::Lanes(d);
  Barrett br;
  if (lanes < 8 || n % lanes != 0 || !MakeBarrett(q, br)) return false;
  const V vq = hn::Set(d, q), vmu = hn::Set(d, br.mu), one = hn::Set(d, 1);
  for (size_t i = 0; i < n; i += lanes) {
    V hi, lo;
    Mul128(d, hn::LoadU(d, x + i), hn::LoadU(d, y + i), hi, lo);
    const V c = hn::LoadU(d, acc + i);
    const V sum = lo + c;
    hi = hi + hn::IfThenElseZero(hn::Lt(sum, c), one);  // carry out of the low word
    hn::StoreU(Reduce(d, hi, sum, br, vq, vmu), d, acc + i);
  }
  return true;
}

bool ReduceImpl(uint64_t q, const uint64_t* in, uint64_t* out, size_t n) {
  const D d;
  const size_t lanes = hn::Lanes(d);
  Barrett br;
  if (lanes < 8 || n % lanes != 0 || !MakeBarrett(q, br) || br.k < 31) return false;
  const V vq = hn::Set(d, q), vmu = hn::Set(d, br.mu), zero = hn::Zero(d);
  for (size_t i = 0; i < n; i += lanes) {
    hn::StoreU(Reduce(d, zero, hn::LoadU(d, in + i), br, vq, vmu), d, out + i);
  }
  return true;
}

bool ReduceSubImpl(uint64_t q, uint64_t sub, const uint64_t* in, uint64_t* out, size_t n) {
  const D d;
  const size_t lanes = hn::Lanes(d);
  Barrett br;
  if (lanes < 8 || n % lanes != 0 || !MakeBarrett(q, br) || br.k < 31 || sub >= q) return false;
  const V vq = hn::Set(d, q), vmu = hn::Set(d, br.mu), zero = hn::Zero(d), vs = hn::Set(d, sub);
  for (size_t i = 0; i < n; i += lanes) {
    const V r = Reduce(d, zero, hn::LoadU(d, in + i), br, vq, vmu);
    hn::StoreU(CondSub(r + vq - vs, vq), d, out + i);
  }
  return true;
}

bool CenteredReduceImpl(uint64_t q, uint64_t p_mod_q, uint64_t half_p, const uint64_t* in, uint64_t* out, size_t n) {
  const D d;
  const size_t lanes = hn::Lanes(d);
  Barrett br;
  if (lanes < 8 || n % lanes != 0 || !MakeBarrett(q, br) || br.k < 31) return false;
  const V vq = hn::Set(d, q), vmu = hn::Set(d, br.mu), zero = hn::Zero(d);
  const V vpm = hn::Set(d, p_mod_q), vhalf = hn::Set(d, half_p);
  for (size_t i = 0; i < n; i += lanes) {
    const V v = hn::LoadU(d, in + i);
    const V r = Reduce(d, zero, v, br, vq, vmu);
    const V minus = CondSub(r + vq - vpm, vq);  // (r - p_mod_q) mod q
    hn::StoreU(hn::IfThenElse(hn::Gt(v, vhalf), minus, r), d, out + i);
  }
  return true;
}

bool SubMulShoupImpl(uint64_t q, const uint64_t* a, const uint64_t* t, uint64_t w, uint64_t wp, uint64_t* out,
                     size_t n) {
  const D d;
  const size_t lanes = hn::Lanes(d);
  if (lanes < 8 || n % lanes != 0 || q >= (uint64_t{1} << 62)) return false;
  const V vq = hn::Set(d, q), vw = hn::Set(d, w), vwp = hn::Set(d, wp);
  for (size_t i = 0; i < n; i += lanes) {
    const V diff = CondSub(hn::LoadU(d, a + i) + vq - hn::LoadU(d, t + i), vq);
    V hi, lo;
    Mul128(d, diff, vwp, hi, lo);
    const V r = MulLow64(diff, vw) - MulLow64(hi, vq);  // in [0, 2q)
    hn::StoreU(CondSub(r, vq), d, out + i);
  }
  return true;
}

#else  // fewer than 8 u64 lanes: callers use their scalar loops

bool MulModImpl(uint64_t, const uint64_t*, const uint64_t*, uint64_t*, size_t) { return false; }
bool MulAccModImpl(uint64_t, const uint64_t*, const uint64_t*, uint64_t*, size_t) { return false; }
bool ReduceImpl(uint64_t, const uint64_t*, uint64_t*, size_t) { return false; }
bool CenteredReduceImpl(uint64_t, uint64_t, uint64_t, const uint64_t*, uint64_t*, size_t) { return false; }
bool ReduceSubImpl(uint64_t, uint64_t, const uint64_t*, uint64_t*, size_t) { return false; }
bool SubMulShoupImpl(uint64_t, const uint64_t*, const uint64_t*, uint64_t, uint64_t, uint64_t*, size_t) {
  return false;
}

#endif

}  // namespace swarm::fhe::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace swarm::fhe {
HWY_EXPORT(MulModImpl);
HWY_EXPORT(MulAccModImpl);
HWY_EXPORT(ReduceImpl);
HWY_EXPORT(CenteredReduceImpl);
HWY_EXPORT(ReduceSubImpl);
HWY_EXPORT(SubMulShoupImpl);

bool MulModRowSimd(uint64_t q, const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n) {
  return HWY_DYNAMIC_DISPATCH(MulModImpl)(q, a, b, out, n);
}
bool MulAccModRowSimd(uint64_t q, const uint64_t* x, const uint64_t* y, uint64_t* acc, size_t n) {
  return HWY_DYNAMIC_DISPATCH(MulAccModImpl)(q, x, y, acc, n);
}
bool ReduceRowSimd(uint64_t q, const uint64_t* in, uint64_t* out, size_t n) {
  return HWY_DYNAMIC_DISPATCH(ReduceImpl)(q, in, out, n);
}
bool ReduceSubRowSimd(uint64_t q, uint64_t s, const uint64_t* in, uint64_t* out, size_t n) {
  return HWY_DYNAMIC_DISPATCH(ReduceSubImpl)(q, s, in, out, n);
}
bool CenteredReduceRowSimd(uint64_t q, uint64_t p_mod_q, uint64_t half_p, const uint64_t* in, uint64_t* out,
                           size_t n) {
  return HWY_DYNAMIC_DISPATCH(CenteredReduceImpl)(q, p_mod_q, half_p, in, out, n);
}
bool SubMulShoupRowSimd(uint64_t q, const uint64_t* a, const uint64_t* t, uint64_t w, uint64_t wp, uint64_t* out,
                        size_t n) {
  return HWY_DYNAMIC_DISPATCH(SubMulShoupImpl)(q, a, t, w, wp, out, n);
}
}  // namespace swarm::fhe
#endif  // HWY_ONCE
