// Fuzz target: the expert host's per-round state machine fed arbitrary
// callers, experts, rounds, vectors and times (every field is peer input).
// Postconditions: it never aborts, every emitted step has the expert's dim,
// finite values within clip_norm * sqrt(dim), at least quorum distinct callers.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <set>

#include "train/expert_round.h"

namespace {
struct Reader {
  const uint8_t* p;
  size_t n;
  template <typename T>
  T Get() {
    T v{};
    const size_t k = std::min(sizeof(T), n);
    std::memcpy(&v, p, k);
    p += k;
    n -= k;
    return v;
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace swarm::train;
  ExpertRoundConfig c;
  c.aggregator.name = "centered_clip";
  c.aggregator.byzantine = 1;
  c.quorum = 2;
  c.round_deadline = swarm::Millis(5);
  auto rounds = std::move(*ExpertRounds::Create(c));
  constexpr size_t kDim = 4;
  for (uint32_t e = 0; e < 3; ++e) (void)rounds->AddExpert(e, kDim);
  Reader r{data, size};
  swarm::Nanos now = 0;
  while (r.n > 0) {
    const uint8_t op = r.Get<uint8_t>();
    now += static_cast<swarm::Nanos>(r.Get<uint8_t>()) * swarm::Millis(1) / 4;
    if (op % 5 == 0) {
      rounds->OnTick(now);
    } else {
      const std::string caller(1, static_cast<char>('a' + r.Get<uint8_t>() % 6));
      const uint32_t expert = r.Get<uint8_t>() % 4;  // 3 is unknown
      const uint64_t round = r.Get<uint8_t>() % 2 ? r.Get<uint8_t>() : r.Get<uint64_t>();
      std::vector<float> g(r.Get<uint8_t>() % 3 == 0 ? kDim + 1 : kDim);
      for (auto& x : g) x = r.Get<float>();
      (void)rounds->OnContribution(caller, expert, round, std::move(g), now);
    }
    for (const auto& s : rounds->TakeOutbox()) {
      if (s.gradient.size() != kDim || s.used.size() < c.quorum) __builtin_trap();
      if (std::set<std::string>(s.used.begin(), s.used.end()).size() != s.used.size()) __builtin_trap();
      double sq = 0;
      for (float x : s.gradient) {
        if (!std::isfinite(x)) __builtin_trap();
        sq += static_cast<double>(x) * x;
      }
      // Each coordinate of any rule's output is within the inputs' range: norm <= clip * sqrt(dim).
      if (std::sqrt(sq) > c.clip_norm * std::sqrt(double(kDim)) * 1.001) __builtin_trap();
    }
  }
  return 0;
}
