#include "nn/tensor_codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "common/rng.h"

namespace swarm::nn {
namespace {

HostTensor Random(std::vector<int64_t> shape, uint64_t seed, double scale = 1.0) {
  HostTensor t;
  t.shape = std::move(shape);
  Rng rng(seed);
  t.data.resize(static_cast<size_t>(t.numel()));
  for (auto& v : t.data) v = static_cast<float>(rng.Normal(0, scale));
  return t;
}

DecodeReject ReasonOf(const Bytes& wire, const TensorLimits& limits = {}) {
  DecodeReject r = DecodeReject::kNone;
  auto t = DecodeTensor(wire, limits, &r);
  EXPECT_FALSE(t.ok());
  if (!t.ok()) {
    EXPECT_NE(t.status().message().find(DecodeRejectName(r)), std::string::npos) << t.status();
  }
  return r;
}

TEST(TensorCodec, F32RoundTripIsExact) {
  const HostTensor t = Random({3, 5}, 1);
  auto wire = EncodeTensor(t, WireDtype::kF32);
  ASSERT_TRUE(wire.ok());
  EXPECT_EQ(wire->size(), 4u + 2 * 8 + 15 * 4);
  auto back = DecodeTensor(*wire);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->shape, t.shape);
  EXPECT_EQ(back->data, t.data);
}

TEST(TensorCodec, LittleEndianLayout) {
  HostTensor t{{1}, {1.0f}};
  auto wire = EncodeTensor(t, WireDtype::kF32);
  ASSERT_TRUE(wire.ok());
  const Bytes expect = {1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x80, 0x3f};
  EXPECT_EQ(*wire, expect);
}

TEST(TensorCodec, F16RoundTripWithinHalfPrecision) {
  const HostTensor t = Random({4, 64}, 2, 10.0);
  auto wire = EncodeTensor(t, WireDtype::kF16);
  ASSERT_TRUE(wire.ok());
  auto back = DecodeTensor(*wire);
  ASSERT_TRUE(back.ok());
  for (size_t i = 0; i < t.data.size(); ++i) {
    EXPECT_NEAR(back->data[i], t.data[i], std::fabs(t.data[i]) * 1e-3 + 1e-4) << i;
  }
}

TEST(TensorCodec, HalfConversionKnownValues) {
  EXPECT_EQ(FloatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(FloatToHalf(-2.0f), 0xc000);
  EXPECT_EQ(FloatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(FloatToHalf(0.0f), 0x0000);
  EXPECT_EQ(FloatToHalf(5.960464477539063e-08f), 0x0001);  // smallest subnormal
  EXPECT_EQ(HalfToFloat(0x0001), 5.960464477539063e-08f);
  EXPECT_EQ(HalfToFloat(0x3555), 0.333251953125f);
  EXPECT_EQ(FloatToHalf(1.0f + 1.0f / 2048), 0x3c00);  // tie → even
  for (uint32_t h = 0; h < 0x7c00; ++h) {  // every finite positive half round-trips
    ASSERT_EQ(FloatToHalf(HalfToFloat(static_cast<uint16_t>(h))), h) << h;
  }
}

TEST(TensorCodec, Int8RoundTripWithinOneStep) {
  const HostTensor t = Random({100}, 3, 2.0);
  auto wire = EncodeTensor(t, WireDtype::kInt8);
  ASSERT_TRUE(wire.ok());
  EXPECT_EQ(wire->size(), 4u + 8 + 4 + 100);
  auto back = DecodeTensor(*wire);
  ASSERT_TRUE(back.ok());
  float amax = 0;
  for (float v : t.data) amax = std::max(amax, std::fabs(v));
  for (size_t i = 0; i < t.data.size(); ++i) {
    EXPECT_NEAR(back->data[i], t.data[i], amax / 127 * 0.5 + 1e-6) << i;
  }
}

TEST(TensorCodec, ScalarAndEmpty) {
  HostTensor scalar{{}, {3.5f}};
  auto w = EncodeTensor(scalar, WireDtype::kF32);
  ASSERT_TRUE(w.ok());
  auto back = DecodeTensor(*w);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->shape.empty());
  EXPECT_EQ(back->data, std::vector<float>{3.5f});
  HostTensor empty{{0, 7}, {}};
  auto we = EncodeTensor(empty, WireDtype::kF16);
  ASSERT_TRUE(we.ok());
  auto be = DecodeTensor(*we);
  ASSERT_TRUE(be.ok());
  EXPECT_EQ(be->shape, (std::vector<int64_t>{0, 7}));
}

TEST(TensorCodec, EncodeRejectsBadTensors) {
  EXPECT_FALSE(EncodeTensor({{2}, {1.0f}}, WireDtype::kF32).ok());
  EXPECT_FALSE(EncodeTensor({{-1}, {}}, WireDtype::kF32).ok());
  EXPECT_FALSE(EncodeTensor({{1}, {NAN}}, WireDtype::kF32).ok());
  EXPECT_FALSE(EncodeTensor({{1}, {1e6f}}, WireDtype::kF16).ok());
  EXPECT_TRUE(EncodeTensor({{1}, {1e6f}}, WireDtype::kF32).ok());
}

TEST(TensorCodec, EveryRejectionReason) {
  const Bytes good = *EncodeTensor({{2, 2}, {1, 2, 3, 4}}, WireDtype::kF32);
  ASSERT_TRUE(DecodeTensor(good).ok());

  EXPECT_EQ(ReasonOf(Bytes{1, 0}), DecodeReject::kTruncated);
  Bytes b = good;
  b.resize(10);  // inside the dims
  EXPECT_EQ(ReasonOf(b), DecodeReject::kTruncated);

  b = good;
  b[0] = 2;
  EXPECT_EQ(ReasonOf(b), DecodeReject::kBadVersion);
  b = good;
  b[1] = 3;
  EXPECT_EQ(ReasonOf(b), DecodeReject::kBadDtype);
  b = good;
  b[3] = 1;
  EXPECT_EQ(ReasonOf(b), DecodeReject::kReservedNonZero);
  b = good;
  b[2] = 9;
  EXPECT_EQ(ReasonOf(b), DecodeReject::kRankTooLarge);

  // Dims whose product overflows 64 bits, and a plain large count.
  b = good;
  for (int i = 4; i < 20; ++i) b[i] = 0xff;
  EXPECT_EQ(ReasonOf(b), DecodeReject::kElementsTooMany);
  TensorLimits small;
  small.elements_max = 3;
  EXPECT_EQ(ReasonOf(good, small), DecodeReject::kElementsTooMany);

  TensorLimits tiny;
  tiny.message_size_bytes_max = 8;
  EXPECT_EQ(ReasonOf(good, tiny), DecodeReject::kMessageTooLarge);

  b = good;
  b.pop_back();
  EXPECT_EQ(ReasonOf(b), DecodeReject::kLengthMismatch);
  b = good;
  b.push_back(0);
  EXPECT_EQ(ReasonOf(b), DecodeReject::kLengthMismatch);

  b = good;
  const float nan = NAN;
  std::memcpy(b.data() + b.size() - 4, &nan, 4);
  EXPECT_EQ(ReasonOf(b), DecodeReject::kNonFinite);
  Bytes h = *EncodeTensor({{1}, {1.0f}}, WireDtype::kF16);
  h[h.size() - 2] = 0x00;
  h[h.size() - 1] = 0x7c;  // +Inf in binary16
  EXPECT_EQ(ReasonOf(h), DecodeReject::kNonFinite);

  Bytes q = *EncodeTensor({{2}, {1.0f, -1.0f}}, WireDtype::kInt8);
  const float neg = -1.0f, inf = INFINITY;
  std::memcpy(q.data() + 12, &neg, 4);
  EXPECT_EQ(ReasonOf(q), DecodeReject::kBadScale);
  std::memcpy(q.data() + 12, &inf, 4);
  EXPECT_EQ(ReasonOf(q), DecodeReject::kNonFinite);
}

}  // namespace
}  // namespace swarm::nn
