// Exhaustive check of the ML-DSA rounding functions (Power2Round, Decompose =
// HighBits/LowBits, UseHint) over every r in Z_q, against the C2SP/CCTV
// "accumulated" field-operation digest (ML-DSA/accumulated/README.md): twelve
// ASCII decimal lines per r are hashed with SHAKE128.
#include <gtest/gtest.h>

#include <charconv>

#include "crypto/hash.h"
#include "crypto/ml_dsa_poly.h"

namespace swarm::crypto::mldsa_detail {
namespace {

class Lines {
 public:
  explicit Lines(Xof& xof) : xof_(xof) {}
  ~Lines() { Flush(); }
  void Put(int64_t v) {
    if (len_ + 32 > sizeof(buf_)) Flush();
    auto r = std::to_chars(buf_ + len_, buf_ + sizeof(buf_), v);
    len_ = static_cast<size_t>(r.ptr - buf_);
    buf_[len_++] = '\n';
  }
  void Flush() {
    xof_.Absorb(ByteSpan(reinterpret_cast<const uint8_t*>(buf_), len_));
    len_ = 0;
  }

 private:
  Xof& xof_;
  char buf_[1 << 16];
  size_t len_ = 0;
};

TEST(MlDsaField, RoundingFunctionsOverAllOfZq) {
  Xof xof(Xof::Kind::kShake128);
  {
    Lines out(xof);
    Poly a, p1, p0, h44, l44, u44, h32, l32, u32, ones;
    for (int i = 0; i < kN; ++i) ones.c[i] = 1;
    constexpr int32_t kG88 = (kQ - 1) / 88, kG32 = (kQ - 1) / 32;
    for (int32_t base = 0; base < kQ; base += kN) {
      const int n = std::min<int32_t>(kN, kQ - base);
      for (int i = 0; i < kN; ++i) a.c[i] = i < n ? base + i : 0;
      PolyPower2Round(p1, p0, a);
      PolyDecompose(h44, l44, a, kG88);
      PolyUseHint(u44, a, ones, kG88);
      PolyDecompose(h32, l32, a, kG32);
      PolyUseHint(u32, a, ones, kG32);
      for (int i = 0; i < n; ++i) {
        const int32_t r = a.c[i];
        const int32_t centered = r > kQ / 2 ? r - kQ : r;
        out.Put(centered);
        out.Put(centered < 0 ? -centered : centered);
        out.Put(p1.c[i]);
        out.Put(p0.c[i] < 0 ? p0.c[i] + kQ : p0.c[i]);
        out.Put(h44.c[i]);
        out.Put(u44.c[i]);
        out.Put(l44.c[i]);
        out.Put(l44.c[i] < 0 ? -l44.c[i] : l44.c[i]);
        out.Put(h32.c[i]);
        out.Put(u32.c[i]);
        out.Put(l32.c[i]);
        out.Put(l32.c[i] < 0 ? -l32.c[i] : l32.c[i]);
      }
    }
  }
  Bytes digest(32);
  xof.Squeeze(digest);
  EXPECT_EQ(ToHex(digest), "f930663417278156ab05d940294a77210a809c924d8ab63ec72f4526247602c7");
}

}  // namespace
}  // namespace swarm::crypto::mldsa_detail
