// Highway (libhwy) kernels for the negacyclic NTT, with run-time dispatch to
// the best target the CPU has. Only targets with at least 8 u64 lanes
// (AVX-512) take the vector path: 64x64-bit products are built from 32x32-bit
// lane multiplies (no SIMD 64-bit high multiply exists), which only beats the
// scalar mulx path when eight lanes share the work. Layers whose butterfly
// span t is below the lane count run the scalar code. Results are identical
// to the scalar transforms (same lazy bounds, same reductions): tests/fhe
// compares them word for word.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "fhe/ntt_simd.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"

#include "fhe/ntt_simd.h"

HWY_BEFORE_NAMESPACE();
namespace swarm::fhe::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3  // AVX-512 targets: the vector path

using D = hn::ScalableTag<uint64_t>;
using V = hn::Vec<D>;

// High and low 64 bits of a*b per lane, from four 32x32 products.
HWY_INLINE V MulHigh64(D d, V a, V b) {
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
  return hh + hn::ShiftRight<32>(lh) + hn::ShiftRight<32>(hl) + hn::ShiftRight<32>(mid);
}

HWY_INLINE V MulLow64(D d, V a, V b) {
  const hn::Repartition<uint32_t, D> d32;
  const auto a_lo = hn::BitCast(d32, a), b_lo = hn::BitCast(d32, b);
  const auto a_hi = hn::BitCast(d32, hn::ShiftRight<32>(a));
  const auto b_hi = hn::BitCast(d32, hn::ShiftRight<32>(b));
  (void)d;
  const V ll = hn::MulEven(a_lo, b_lo);
  const V cross = hn::MulEven(a_lo, b_hi) + hn::MulEven(a_hi, b_lo);
  return ll + hn::ShiftLeft<32>(cross);
}

// a * w mod q in [0, 2q) given wp = floor(w 2^64 / q) (Shoup, lazy).
HWY_INLINE V MulShoupLazy(D d, V a, V w, V wp, V q) {
  const V hi = MulHigh64(d, a, wp);
  return MulLow64(d, a, w) - MulLow64(d, hi, q);
}

// x >= m ? x - m : x  (unsigned; x - m wraps above x when x < m).
HWY_INLINE V CondSub(V x, V m) { return hn::Min(x, x - m); }

// Layers with butterfly span T in {4, 2, 1} on exactly 8 lanes: two vectors
// (16 words) hold 8/T butterfly groups; a lane permutation gathers their x
// halves into one vector and their y halves into another, the butterfly runs
// on those, and the inverse permutation puts them back. Twiddles of adjacent
// groups are contiguous in the table, so one load and a lane lookup give them.
template <size_t T, class Butterfly>
HWY_INLINE void SmallSpanLayer(D d, uint64_t* a, size_t m, const uint64_t* w_table, const uint64_t* wp_table,
                               Butterfly bf) {
  alignas(64) static constexpr int64_t kSplit4[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  alignas(64) static constexpr int64_t kSplit2[8] = {0, 1, 4, 5, 2, 3, 6, 7};
  alignas(64) static constexpr int64_t kSplit1[8] = {0, 2, 4, 6, 1, 3, 5, 7};
  alignas(64) static constexpr int64_t kJoin1[8] = {0, 4, 1, 5, 2, 6, 3, 7};
  alignas(64) static constexpr int64_t kTw4[8] = {0, 0, 0, 0, 1, 1, 1, 1};
  alignas(64) static constexpr int64_t kTw2[8] = {0, 0, 1, 1, 2, 2, 3, 3};
  const int64_t* split = T == 4 ? kSplit4 : T == 2 ? kSplit2 : kSplit1;
  const int64_t* join = T == 4 ? kSplit4 : T == 2 ? kSplit2 : kJoin1;  // kSplit2 is its own inverse
  const int64_t* tw = T == 4 ? kTw4 : T == 2 ? kTw2 : kSplit4;
  const auto split_idx = hn::SetTableIndices(d, split);
  const auto join_idx = hn::SetTableIndices(d, join);
  const auto tw_idx = hn::SetTableIndices(d, tw);
  constexpr size_t kGroups = 8 / T;  // groups per 16 words
  for (size_t i = 0; i < m; i += kGroups) {
    uint64_t* base = a + 2 * i * T;
    V v0 = hn::LoadU(d, base), v1 = hn::LoadU(d, base + 8);
    if (T != 4) {
      v0 = hn::TableLookupLanes(v0, split_idx);
      v1 = hn::TableLookupLanes(v1, split_idx);
    }
    V x = hn::ConcatLowerLower(d, v1, v0);
    V y = hn::ConcatUpperUpper(d, v1, v0);
    V w = hn::LoadU(d, w_table + m + i), wp = hn::LoadU(d, wp_table + m + i);
    if (T != 1) {
      w = hn::TableLookupLanes(w, tw_idx);
      wp = hn::TableLookupLanes(wp, tw_idx);
    }
    bf(x, y, w, wp);
    V o0 = hn::ConcatLowerLower(d, y, x);
    V o1 = hn::ConcatUpperUpper(d, y, x);
    if (T != 4) {
      o0 = hn::TableLookupLanes(o0, join_idx);
      o1 = hn::TableLookupLanes(o1, join_idx);
    }
    hn::StoreU(o0, d, base);
    hn::StoreU(o1, d, base + 8);
  }
}

bool ForwardImpl(const NttKernelArgs& k, uint64_t* a) {
  const D d;
  const size_t lanes = hn::Lanes(d);
  if (lanes < 8 || k.n < 4 * lanes) return false;
  const size_t n = k.n;
  const uint64_t q = k.q, two_q = 2 * q;
  const V vq = hn::Set(d, q), vq2 = hn::Set(d, two_q);
  size_t t = n;
  size_t m = 1;
  for (; m < n; m <<= 1) {
    t >>= 1;
    if (t < lanes) break;
    for (size_t i = 0; i < m; ++i) {
      const V w = hn::Set(d, k.roots[m + i]), wp = hn::Set(d, k.roots_shoup[m + i]);
      uint64_t* x = a + 2 * i * t;
      uint64_t* y = x + t;
      for (size_t j = 0; j < t; j += lanes) {
        const V u = CondSub(hn::LoadU(d, x + j), vq2);
        const V v = MulShoupLazy(d, hn::LoadU(d, y + j), w, wp, vq);
        hn::StoreU(u + v, d, x + j);
        hn::StoreU(u - v + vq2, d, y + j);
      }
    }
  }
  // Remaining layers (t = 4, 2, 1): lane-permuted butterflies.
  auto ct = [&](V& x, V& y, V w, V wp) {
    const V u = CondSub(x, vq2);
    const V v = MulShoupLazy(d, y, w, wp, vq);
    x = u + v;
    y = u - v + vq2;
  };
  if (lanes == 8) {
    SmallSpanLayer<4>(d, a, m, k.roots, k.roots_shoup, ct);
    SmallSpanLayer<2>(d, a, 2 * m, k.roots, k.roots_shoup, ct);
    SmallSpanLayer<1>(d, a, 4 * m, k.roots, k.roots_shoup, ct);
  } else {
    for (; m < n; m <<= 1) {
      for (size_t i = 0; i < m; ++i) {
        const uint64_t w = k.roots[m + i], wp = k.roots_shoup[m + i];
        uint64_t* x = a + 2 * i * t;
        uint64_t* y = x + t;
        for (size_t j = 0; j < t; ++j) {
          uint64_t u = x[j];
          if (u >= two_q) u -= two_q;
          const uint64_t hi = static_cast<uint64_t>((static_cast<unsigned __int128>(y[j]) * wp) >> 64);
          const uint64_t v = y[j] * w - hi * q;
          x[j] = u + v;
          y[j] = u - v + two_q;
        }
      }
      t >>= 1;
    }
  }
  for (size_t i = 0; i < n; i += lanes) {
    hn::StoreU(CondSub(CondSub(hn::LoadU(d, a + i), vq2), vq), d, a + i);
  }
  return true;
}

bool InverseImpl(const NttKernelArgs& k, uint64_t* a) {
  const D d;
  const size_t lanes = hn::Lanes(d);
  if (lanes < 8 || k.n < 4 * lanes) return false;
  const size_t n = k.n;
  const uint64_t q = k.q, two_q = 2 * q;
  const V vq = hn::Set(d, q), vq2 = hn::Set(d, two_q);
  size_t t = 1;
  size_t m = n >> 1;
  if (lanes == 8) {
    auto gs = [&](V& x, V& y, V w, V wp) {
      const V u = x, v = y;
      x = CondSub(u + v, vq2);
      y = MulShoupLazy(d, u - v + vq2, w, wp, vq);
    };
    SmallSpanLayer<1>(d, a, m, k.iroots, k.iroots_shoup, gs);
    SmallSpanLayer<2>(d, a, m >> 1, k.iroots, k.iroots_shoup, gs);
    SmallSpanLayer<4>(d, a, m >> 2, k.iroots, k.iroots_shoup, gs);
    m >>= 3;
    t = 8;
  }
  for (; m > 1; m >>= 1) {
    for (size_t i = 0; i < m; ++i) {
      const uint64_t w = k.iroots[m + i], wp = k.iroots_shoup[m + i];
      uint64_t* x = a + 2 * i * t;
      uint64_t* y = x + t;
      if (t < lanes) {
        for (size_t j = 0; j < t; ++j) {
          const uint64_t u = x[j], v = y[j];
          uint64_t s = u + v;
          if (s >= two_q) s -= two_q;
          x[j] = s;
          const uint64_t z = u - v + two_q;
          const uint64_t hi = static_cast<uint64_t>((static_cast<unsigned __int128>(z) * wp) >> 64);
          y[j] = z * w - hi * q;
        }
      } else {
        const V vw = hn::Set(d, w), vwp = hn::Set(d, wp);
        for (size_t j = 0; j < t; j += lanes) {
          const V u = hn::LoadU(d, x + j), v = hn::LoadU(d, y + j);
          hn::StoreU(CondSub(u + v, vq2), d, x + j);
          hn::StoreU(MulShoupLazy(d, u - v + vq2, vw, vwp, vq), d, y + j);
        }
      }
    }
    t <<= 1;
  }
  // Last layer with N^-1 folded in; fully reduced output.
  const V ninv = hn::Set(d, k.n_inv), ninvp = hn::Set(d, k.n_inv_shoup);
  const V last = hn::Set(d, k.last), lastp = hn::Set(d, k.last_shoup);
  uint64_t* x = a;
  uint64_t* y = a + t;
  for (size_t j = 0; j < t; j += lanes) {
    const V u = hn::LoadU(d, x + j), v = hn::LoadU(d, y + j);
    const V s = CondSub(u + v, vq2);
    hn::StoreU(CondSub(MulShoupLazy(d, s, ninv, ninvp, vq), vq), d, x + j);
    hn::StoreU(CondSub(MulShoupLazy(d, u - v + vq2, last, lastp, vq), vq), d, y + j);
  }
  return true;
}

bool AvailableImpl() { return hn::Lanes(D()) >= 8; }

#else  // fewer than 8 u64 lanes: callers use the scalar transforms

bool AvailableImpl() { return false; }

bool ForwardImpl(const NttKernelArgs&, uint64_t*) { return false; }
bool InverseImpl(const NttKernelArgs&, uint64_t*) { return false; }

#endif

}  // namespace swarm::fhe::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace swarm::fhe {
HWY_EXPORT(ForwardImpl);
HWY_EXPORT(InverseImpl);
HWY_EXPORT(AvailableImpl);

bool NttSimdAvailable() { return HWY_DYNAMIC_DISPATCH(AvailableImpl)(); }

bool NttForwardSimd(const NttKernelArgs& args, uint64_t* a) { return HWY_DYNAMIC_DISPATCH(ForwardImpl)(args, a); }
bool NttInverseSimd(const NttKernelArgs& args, uint64_t* a) { return HWY_DYNAMIC_DISPATCH(InverseImpl)(args, a); }
}  // namespace swarm::fhe
#endif  // HWY_ONCE
