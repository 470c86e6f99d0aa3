#include "train/momentum.h"

#include <cmath>

namespace swarm::train {

StatusOr<WorkerMomentum> WorkerMomentum::Create(double beta) {
  if (!(beta >= 0.0 && beta < 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat("momentum beta = ", beta,
                                                   " must be in [0, 1)"));
  }
  return WorkerMomentum(beta);
}

std::span<const float> WorkerMomentum::Update(std::span<const float> g) {
  if (m_.size() != g.size()) {
    m_.assign(g.begin(), g.end());
    return m_;
  }
  const float b = static_cast<float>(beta_), a = 1.0f - b;
  for (size_t j = 0; j < g.size(); ++j) m_[j] = b * m_[j] + a * g[j];
  return m_;
}

}  // namespace swarm::train
