#include "train/expert_round.h"

#include <cmath>

namespace swarm::train {

const char* ExpertRefusalName(ExpertRefusal r) {
  switch (r) {
    case ExpertRefusal::kUnknownExpert: return "unknown_expert";
    case ExpertRefusal::kWrongRound: return "wrong_round";
    case ExpertRefusal::kLate: return "late";
    case ExpertRefusal::kWrongSize: return "wrong_size";
    case ExpertRefusal::kNonFinite: return "non_finite";
    case ExpertRefusal::kDuplicate: return "duplicate";
    case ExpertRefusal::kTooManyRounds: return "too_many_rounds";
    case ExpertRefusal::kTooManyCallers: return "too_many_callers";
  }
  return "unknown";
}

Status ExpertRoundConfig::Validate() const {
  if (!(clip_norm >= 0) || !std::isfinite(clip_norm)) {
    return absl::InvalidArgumentError(absl::StrCat("clip_norm = ", clip_norm, " must be >= 0 and finite"));
  }
  if (round_deadline <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("round_deadline = ", round_deadline, " ns must be positive"));
  }
  if (quorum < 1) return absl::InvalidArgumentError("quorum = 0 must be at least 1");
  if (open_rounds_per_caller_max < 1) {
    return absl::InvalidArgumentError("open_rounds_per_caller_max = 0 must be at least 1");
  }
  if (callers_max < quorum) {
    return absl::InvalidArgumentError(
        absl::StrCat("callers_max = ", callers_max, " is below quorum = ", quorum));
  }
  if (missed_rounds_max < 1) {
    return absl::InvalidArgumentError(absl::StrCat("missed_rounds_max = ", missed_rounds_max, " must be >= 1"));
  }
  if (dim_max < 1 || experts_max < 1) return absl::InvalidArgumentError("dim_max and experts_max must be >= 1");
  return MakeAggregator(aggregator).status();
}

StatusOr<std::unique_ptr<ExpertRounds>> ExpertRounds::Create(ExpertRoundConfig config) {
  SWARM_RETURN_IF_ERROR(config.Validate());
  return std::unique_ptr<ExpertRounds>(new ExpertRounds(std::move(config)));
}

Status ExpertRounds::AddExpert(uint32_t expert, size_t dim) {
  if (dim == 0 || dim > config_.dim_max) {
    return absl::InvalidArgumentError(
        absl::StrCat("expert ", expert, ": dim = ", dim, " is out of range [1, ", config_.dim_max, "]"));
  }
  auto it = experts_.find(expert);
  if (it != experts_.end()) {
    if (it->second.dim == dim) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat("expert ", expert, ": dim = ", dim, ", declared before as ", it->second.dim));
  }
  if (experts_.size() >= config_.experts_max) {
    return absl::InvalidArgumentError(
        absl::StrCat("expert ", expert, ": already tracking experts_max = ", config_.experts_max));
  }
  AggregatorSpec spec = config_.aggregator;
  spec.seed = config_.aggregator.seed * 1000003 + expert;  // own bucketing stream per expert
  SWARM_ASSIGN_OR_RETURN(auto agg, MakeAggregator(spec));
  Expert e;
  e.dim = dim;
  e.aggregator = std::move(agg);
  experts_.emplace(expert, std::move(e));
  return absl::OkStatus();
}

void ExpertRounds::RemoveExpert(uint32_t expert) { experts_.erase(expert); }

Status ExpertRounds::Refuse(ExpertRefusal r, const std::string& detail) {
  ++counters_.refused[static_cast<int>(r)];
  return absl::InvalidArgumentError(absl::StrCat(ExpertRefusalName(r), ": ", detail));
}

Status ExpertRounds::OnContribution(const std::string& caller, uint32_t expert, uint64_t round,
                                    std::vector<float> gradient, Nanos now) {
  auto it = experts_.find(expert);
  if (it == experts_.end()) {
    return Refuse(ExpertRefusal::kUnknownExpert, absl::StrCat("expert ", expert, " is not hosted here"));
  }
  Expert& e = it->second;
  if (round == 0) return Refuse(ExpertRefusal::kWrongRound, "round 0 (rounds start at 1)");
  if (round <= e.last_applied || e.closed.count(round)) {
    // A caller that came late is waited for in the next rounds (else one
    // consistently slower trainer would never be expected, hence always late).
    if (!e.recent.empty() && e.recent.back().size() < config_.callers_max) e.recent.back().insert(caller);
    return Refuse(ExpertRefusal::kLate, absl::StrCat("expert ", expert, " round ", round,
                                                     " already closed (last applied ", e.last_applied, ")"));
  }
  if (e.last_applied > 0 && config_.rounds_ahead_max > 0 && round > e.last_applied + config_.rounds_ahead_max) {
    return Refuse(ExpertRefusal::kWrongRound,
                  absl::StrCat("expert ", expert, " round ", round, " is more than rounds_ahead_max = ",
                               config_.rounds_ahead_max, " past the last applied round ", e.last_applied));
  }
  if (gradient.size() != e.dim) {
    return Refuse(ExpertRefusal::kWrongSize, absl::StrCat("caller '", caller, "' sent ", gradient.size(),
                                                          " values for expert ", expert, ", expected ", e.dim));
  }
  double sq = 0;
  for (size_t i = 0; i < gradient.size(); ++i) {
    if (!std::isfinite(gradient[i])) {
      return Refuse(ExpertRefusal::kNonFinite,
                    absl::StrCat("caller '", caller, "' expert ", expert, " element ", i, " is not finite"));
    }
    sq += static_cast<double>(gradient[i]) * gradient[i];
  }
  auto rit = e.open.find(round);
  if (rit != e.open.end()) {
    if (rit->second.in.count(caller)) {
      return Refuse(ExpertRefusal::kDuplicate, absl::StrCat("caller '", caller, "' already contributed to expert ",
                                                            expert, " round ", round));
    }
    if (rit->second.in.size() >= config_.callers_max) {
      return Refuse(ExpertRefusal::kTooManyCallers, absl::StrCat("expert ", expert, " round ", round, " holds callers_max = ",
                                                                 config_.callers_max, " contributions"));
    }
  }
  size_t waiting = 0;
  for (const auto& [r, rd] : e.open) waiting += rd.in.count(caller);
  if (waiting >= config_.open_rounds_per_caller_max) {
    return Refuse(ExpertRefusal::kTooManyRounds,
                  absl::StrCat("caller '", caller, "' has ", waiting, " contributions waiting on expert ", expert,
                               " (open_rounds_per_caller_max = ", config_.open_rounds_per_caller_max, ")"));
  }
  // Sum in double and check the square: a huge finite vector may overflow f32.
  const double norm = std::sqrt(sq);
  bool clipped = false;
  if (config_.clip_norm > 0 && norm > config_.clip_norm) {
    const double s = config_.clip_norm / norm;
    for (auto& x : gradient) x = static_cast<float>(x * s);
    clipped = true;
    ++counters_.clipped;
  }
  if (rit == e.open.end()) {
    rit = e.open.emplace(round, Round{}).first;
    rit->second.opened_at = now;
  }
  rit->second.in.emplace(caller, std::move(gradient));
  if (clipped) ++rit->second.clipped;
  ++counters_.accepted;
  if (rit->second.in.size() >= config_.quorum && e.open.begin()->first < round) {
    // A quorum moved on to this round: older rounds stop waiting for
    // stragglers (an expected caller that withholds cannot pile rounds up).
    CloseThrough(expert, e, round - 1, /*by_deadline=*/true);
  }
  if (Complete(e, rit->second)) CloseThrough(expert, e, round, /*by_deadline=*/false);
  return absl::OkStatus();
}

bool ExpertRounds::Complete(const Expert& e, const Round& r) const {
  if (r.in.size() < config_.quorum) return false;
  std::set<std::string> expected;
  for (const auto& used : e.recent) expected.insert(used.begin(), used.end());
  if (expected.empty()) return false;  // nobody known yet: the deadline decides
  for (const auto& c : expected) {
    if (!r.in.count(c)) return false;
  }
  return true;
}

void ExpertRounds::OnTick(Nanos now) {
  for (auto& [id, e] : experts_) {
    // Each round past its own deadline closes (a bogus round far ahead does
    // not close honest rounds early).
    for (auto it = e.open.begin(); it != e.open.end();) {
      if (now - it->second.opened_at < config_.round_deadline) {
        ++it;
        continue;
      }
      const uint64_t r = it->first;
      Round rd = std::move(it->second);
      it = e.open.erase(it);
      Close(id, e, r, std::move(rd), /*by_deadline=*/true);
    }
    // A deadline close may have taught who is expected: later rounds that
    // are now complete close too (newest complete one and every older one).
    for (auto it = e.open.rbegin(); it != e.open.rend(); ++it) {
      if (Complete(e, it->second)) {
        CloseThrough(id, e, it->first, /*by_deadline=*/false);
        break;
      }
    }
  }
}

void ExpertRounds::CloseThrough(uint32_t id, Expert& e, uint64_t round, bool by_deadline) {
  while (!e.open.empty() && e.open.begin()->first <= round) {
    auto node = e.open.extract(e.open.begin());
    const uint64_t r = node.key();
    Close(id, e, r, std::move(node.mapped()), by_deadline || r != round);
  }
}

void ExpertRounds::Close(uint32_t id, Expert& e, uint64_t round, Round rd, bool by_deadline) {
  std::set<std::string> used;
  for (const auto& [c, v] : rd.in) used.insert(c);
  if (rd.in.size() < config_.quorum) {
    ++counters_.rounds_dropped;
    e.closed.insert(round);
    while (e.closed.size() > 1024) e.closed.erase(e.closed.begin());
    return;
  }
  ExpertStep step;
  step.expert = id;
  step.round = round;
  step.clipped = rd.clipped;
  step.closed_by_deadline = by_deadline;
  step.used.assign(used.begin(), used.end());
  std::vector<Contribution> in;
  for (const auto& [c, v] : rd.in) in.emplace_back(v);
  step.gradient.assign(e.dim, 0.0f);
  Status s = e.aggregator->Aggregate(in, step.gradient, &step.report);
  if (!s.ok()) {
    MedianAggregator median;
    step.report = {};
    s = median.Aggregate(in, step.gradient, &step.report);
    step.fallback_median = true;
    ++counters_.rounds_fallback_median;
  }
  if (!s.ok()) {  // cannot happen for finite inputs of one size; never apply garbage
    ++counters_.rounds_dropped;
    e.closed.insert(round);
    return;
  }
  e.last_applied = std::max(e.last_applied, round);
  for (auto it = e.closed.begin(); it != e.closed.end() && *it <= e.last_applied;) it = e.closed.erase(it);
  e.recent.push_back(std::move(used));
  while (e.recent.size() > static_cast<size_t>(config_.missed_rounds_max)) e.recent.erase(e.recent.begin());
  ++counters_.steps;
  outbox_.push_back(std::move(step));
}

std::vector<ExpertStep> ExpertRounds::TakeOutbox() {
  std::vector<ExpertStep> out;
  out.swap(outbox_);
  return out;
}

Nanos ExpertRounds::NextDeadline() const {
  Nanos best = 0;
  for (const auto& [id, e] : experts_) {
    for (const auto& [r, rd] : e.open) {
      const Nanos at = rd.opened_at + config_.round_deadline;
      if (best == 0 || at < best) best = at;
    }
  }
  return best;
}

size_t ExpertRounds::open_rounds(uint32_t expert) const {
  auto it = experts_.find(expert);
  return it == experts_.end() ? 0 : it->second.open.size();
}

uint64_t ExpertRounds::last_applied(uint32_t expert) const {
  auto it = experts_.find(expert);
  return it == experts_.end() ? 0 : it->second.last_applied;
}

}  // namespace swarm::train
