// Highway kernels for train/aggregator_kernels.h (see there for the contract).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "train/aggregator_kernels.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"

#include <algorithm>
#include <cstring>

#include "train/aggregator_kernels.h"

HWY_BEFORE_NAMESPACE();
namespace swarm::train::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

void SortColumnsImpl(float* const* rows, const Comparator* net, size_t count, size_t lanes) {
  const hn::ScalableTag<float> d;
  const size_t L = hn::Lanes(d);
  // Lane-strip outer loop: one strip of every row stays in registers/L1
  // while the whole network runs over it.
  for (size_t k = 0; k < lanes; k += L) {
    for (size_t c = 0; c < count; ++c) {
      float* a = rows[net[c].lo] + k;
      float* b = rows[net[c].hi] + k;
      const auto va = hn::LoadU(d, a);
      const auto vb = hn::LoadU(d, b);
      hn::StoreU(hn::Min(va, vb), d, a);
      hn::StoreU(hn::Max(va, vb), d, b);
    }
  }
}

void SumRowsScaledImpl(const float* const* rows, size_t from, size_t to, float scale, float* out,
                       size_t lanes) {
  const hn::ScalableTag<float> d;
  const size_t L = hn::Lanes(d);
  const auto vscale = hn::Set(d, scale);
  for (size_t k = 0; k < lanes; k += L) {
    auto s = hn::Zero(d);
    for (size_t i = from; i < to; ++i) s = hn::Add(s, hn::LoadU(d, rows[i] + k));
    hn::StoreU(hn::Mul(s, vscale), d, out + k);
  }
}

void MidpointImpl(const float* a, const float* b, float* out, size_t lanes) {
  const hn::ScalableTag<float> d;
  const size_t L = hn::Lanes(d);
  const auto half = hn::Set(d, 0.5f);
  for (size_t k = 0; k < lanes; k += L) {
    hn::StoreU(hn::Mul(half, hn::Add(hn::LoadU(d, a + k), hn::LoadU(d, b + k))), d, out + k);
  }
}

bool AllFiniteImpl(const float* p, size_t n) {
  const hn::ScalableTag<uint32_t> du;
  const size_t L = hn::Lanes(du);
  const auto exp_mask = hn::Set(du, 0x7f800000u);
  auto bad = hn::Zero(du);
  size_t j = 0;
  const uint32_t* u = reinterpret_cast<const uint32_t*>(p);
  for (; j + L <= n; j += L) {
    const auto e = hn::And(hn::LoadU(du, u + j), exp_mask);
    bad = hn::Or(bad, hn::VecFromMask(du, hn::Eq(e, exp_mask)));
  }
  if (!hn::AllTrue(du, hn::Eq(bad, hn::Zero(du)))) return false;
  for (; j < n; ++j) {
    uint32_t x;
    std::memcpy(&x, p + j, 4);
    if ((x & 0x7f800000u) == 0x7f800000u) return false;
  }
  return true;
}

// Float lanes over sub-blocks of kSubBlock elements (a few dozen terms per
// lane), each sub-block's sum added into a double: float-speed arithmetic
// with a double running total, so the error does not grow with n.
constexpr size_t kSubBlock = 512;

double SquaredDistanceImpl(const float* x, const float* v, size_t n) {
  const hn::ScalableTag<float> d;
  const size_t L = hn::Lanes(d);
  double total = 0;
  size_t j = 0;
  while (j + L <= n) {
    const size_t end = std::min(n, j + kSubBlock) / L * L;
    auto acc0 = hn::Zero(d), acc1 = hn::Zero(d);
    for (; j + 2 * L <= end; j += 2 * L) {
      const auto a0 = hn::Sub(hn::LoadU(d, x + j), hn::LoadU(d, v + j));
      const auto a1 = hn::Sub(hn::LoadU(d, x + j + L), hn::LoadU(d, v + j + L));
      acc0 = hn::MulAdd(a0, a0, acc0);
      acc1 = hn::MulAdd(a1, a1, acc1);
    }
    for (; j < end; j += L) {
      const auto a0 = hn::Sub(hn::LoadU(d, x + j), hn::LoadU(d, v + j));
      acc0 = hn::MulAdd(a0, a0, acc0);
    }
    total += static_cast<double>(hn::GetLane(hn::SumOfLanes(d, hn::Add(acc0, acc1))));
  }
  for (; j < n; ++j) {
    const double t = static_cast<double>(x[j]) - v[j];
    total += t * t;
  }
  return total;
}

void AddScaledDifferenceImpl(float* acc, const float* x, const float* v, float w, size_t n) {
  const hn::ScalableTag<float> d;
  const size_t L = hn::Lanes(d);
  const auto vw = hn::Set(d, w);
  size_t j = 0;
  for (; j + L <= n; j += L) {
    const auto diff = hn::Sub(hn::LoadU(d, x + j), hn::LoadU(d, v + j));
    hn::StoreU(hn::MulAdd(vw, diff, hn::LoadU(d, acc + j)), d, acc + j);
  }
  for (; j < n; ++j) acc[j] += w * (x[j] - v[j]);
}

void AddIntoImpl(float* out, const float* x, size_t n) {
  const hn::ScalableTag<float> d;
  const size_t L = hn::Lanes(d);
  size_t j = 0;
  for (; j + L <= n; j += L) hn::StoreU(hn::Add(hn::LoadU(d, out + j), hn::LoadU(d, x + j)), d, out + j);
  for (; j < n; ++j) out[j] += x[j];
}

}  // namespace swarm::train::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace swarm::train::kernels {
HWY_EXPORT(SortColumnsImpl);
HWY_EXPORT(SumRowsScaledImpl);
HWY_EXPORT(MidpointImpl);
HWY_EXPORT(AllFiniteImpl);
HWY_EXPORT(SquaredDistanceImpl);
HWY_EXPORT(AddScaledDifferenceImpl);
HWY_EXPORT(AddIntoImpl);

std::vector<Comparator> SortingNetwork(size_t n) {
  // Batcher's odd-even merge sort in its iterative form for arbitrary n: for
  // each merge size p and distance k, compare i+j with i+j+k when both lie in
  // the same 2p-block.
  std::vector<Comparator> net;
  for (size_t p = 1; p < n; p <<= 1) {
    for (size_t k = p; k >= 1; k >>= 1) {
      for (size_t j = k % p; j + k < n; j += 2 * k) {
        for (size_t i = 0; i < k && i + j + k < n; ++i) {
          if ((i + j) / (2 * p) == (i + j + k) / (2 * p)) {
            net.push_back({static_cast<uint16_t>(i + j), static_cast<uint16_t>(i + j + k)});
          }
        }
      }
    }
  }
  return net;
}

void SortColumns(float* const* rows, const std::vector<Comparator>& network, size_t lanes) {
  HWY_DYNAMIC_DISPATCH(SortColumnsImpl)(rows, network.data(), network.size(), lanes);
}
void SumRowsScaled(const float* const* rows, size_t from, size_t to, float scale, float* out,
                   size_t lanes) {
  HWY_DYNAMIC_DISPATCH(SumRowsScaledImpl)(rows, from, to, scale, out, lanes);
}
void Midpoint(const float* a, const float* b, float* out, size_t lanes) {
  HWY_DYNAMIC_DISPATCH(MidpointImpl)(a, b, out, lanes);
}
bool AllFinite(const float* p, size_t n) { return HWY_DYNAMIC_DISPATCH(AllFiniteImpl)(p, n); }
double SquaredDistance(const float* x, const float* v, size_t n) {
  return HWY_DYNAMIC_DISPATCH(SquaredDistanceImpl)(x, v, n);
}
void AddScaledDifference(float* acc, const float* x, const float* v, float w, size_t n) {
  HWY_DYNAMIC_DISPATCH(AddScaledDifferenceImpl)(acc, x, v, w, n);
}
void AddInto(float* out, const float* x, size_t n) { HWY_DYNAMIC_DISPATCH(AddIntoImpl)(out, x, n); }

}  // namespace swarm::train::kernels
#endif
