#include "train/averaging_round.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace swarm::train {

const char* ExclusionName(Exclusion e) {
  switch (e) {
    case Exclusion::kNotATrainer: return "not_a_trainer";
    case Exclusion::kWrongRound: return "wrong_round";
    case Exclusion::kLate: return "late";
    case Exclusion::kWrongSize: return "wrong_size";
    case Exclusion::kNonFinite: return "non_finite";
    case Exclusion::kDuplicate: return "duplicate";
  }
  return "unknown";
}

Status AveragerConfig::Validate() const {
  if (trainers.empty()) return absl::InvalidArgumentError("averager: trainers is empty");
  std::set<std::string> seen;
  for (const auto& t : trainers) {
    if (t.empty()) return absl::InvalidArgumentError("averager: trainers holds an empty name");
    if (!seen.insert(t).second) {
      return absl::InvalidArgumentError(absl::StrCat("averager: trainer '", t, "' is listed twice"));
    }
  }
  if (dim == 0) return absl::InvalidArgumentError("averager: dim = 0; must be >= 1");
  if (round_deadline <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("averager: round_deadline = ", round_deadline,
                                                   " ns; must be > 0"));
  }
  if (give_up_after < round_deadline) {
    return absl::InvalidArgumentError(absl::StrCat("averager: give_up_after = ", give_up_after,
                                                   " ns is shorter than round_deadline = ",
                                                   round_deadline, " ns"));
  }
  if (quorum < 1 || quorum > trainers.size()) {
    return absl::InvalidArgumentError(absl::StrCat("averager: quorum = ", quorum, " must be in [1, ",
                                                   trainers.size(), "]"));
  }
  if (missed_rounds_max < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("averager: missed_rounds_max = ", missed_rounds_max, "; must be >= 1"));
  }
  return absl::OkStatus();
}

Averager::Averager(AveragerConfig config, std::unique_ptr<Aggregator> aggregator)
    : config_(std::move(config)), aggregator_(std::move(aggregator)) {
  members_.insert(config_.trainers.begin(), config_.trainers.end());
  for (const auto& t : config_.trainers) missed_[t] = 0;
}

StatusOr<std::unique_ptr<Averager>> Averager::Create(AveragerConfig config,
                                                     std::unique_ptr<Aggregator> aggregator) {
  SWARM_RETURN_IF_ERROR(config.Validate());
  if (!aggregator) return absl::InvalidArgumentError("averager: aggregator is null");
  return std::unique_ptr<Averager>(new Averager(std::move(config), std::move(aggregator)));
}

Status Averager::Exclude(Exclusion e, const std::string& detail) {
  ++excluded_[static_cast<int>(e)];
  return absl::InvalidArgumentError(absl::StrCat(ExclusionName(e), ": ", detail));
}

size_t Averager::expected_alive() const {
  size_t n = 0;
  for (const auto& [t, m] : missed_) n += m < config_.missed_rounds_max ? 1 : 0;
  return n;
}

Status Averager::Open(uint64_t round, Nanos now, Nanos deadline) {
  if (round <= round_ && (round_ != 0 || open_ || closed_current_)) {
    return absl::InvalidArgumentError(
        absl::StrCat("averager: Open(", round, ") after round ", round_, "; rounds must increase"));
  }
  if (open_) {
    // Abandoned without an outcome.
    ++rounds_failed_;
  }
  round_ = round;
  open_ = true;
  closed_current_ = false;
  opened_at_ = now;
  deadline_ = deadline > 0 ? std::min(deadline, config_.give_up_after) : config_.round_deadline;
  accepted_.clear();
  outcome_.reset();
  // Drop kept rounds that are now in the past; move in this round's.
  for (auto it = future_.begin(); it != future_.end();) {
    if (it->first < round) {
      it = future_.erase(it);
    } else {
      ++it;
    }
  }
  if (auto it = future_.find(round); it != future_.end()) {
    accepted_ = std::move(it->second);
    future_.erase(it);
  }
  OnTick(now);
  return absl::OkStatus();
}

Status Averager::OnContribution(const std::string& from, uint64_t round, std::vector<float> vec,
                                Nanos now) {
  if (!members_.count(from)) {
    return Exclude(Exclusion::kNotATrainer, absl::StrCat("sender '", from, "' is not a trainer of this job"));
  }
  const bool current_open = round == round_ && open_;
  if (!current_open) {
    if (round <= round_) {
      const bool recent = round_ - round <= config_.future_rounds_max;
      return Exclude(recent ? Exclusion::kLate : Exclusion::kWrongRound,
                     absl::StrCat("contribution from '", from, "' for round ", round,
                                  " but round ", round_, recent ? " already closed" : " is current"));
    }
    if (round - round_ > config_.future_rounds_max) {
      return Exclude(Exclusion::kWrongRound,
                     absl::StrCat("contribution from '", from, "' for round ", round, " while round ",
                                  round_, " is current (at most ", config_.future_rounds_max,
                                  " ahead kept)"));
    }
  }
  if (vec.size() != config_.dim) {
    return Exclude(Exclusion::kWrongSize, absl::StrCat("contribution from '", from, "' has ", vec.size(),
                                                      " elements, expected ", config_.dim));
  }
  for (size_t i = 0; i < vec.size(); ++i) {
    if (!std::isfinite(vec[i])) {
      return Exclude(Exclusion::kNonFinite,
                     absl::StrCat("contribution from '", from, "' has a non-finite value at index ", i));
    }
  }
  auto& slot = current_open ? accepted_ : future_[round];
  if (slot.count(from)) {
    return Exclude(Exclusion::kDuplicate,
                   absl::StrCat("second contribution from '", from, "' for round ", round));
  }
  // A peer we had stopped waiting for is back.
  missed_[from] = 0;
  slot.emplace(from, std::move(vec));
  if (current_open) OnTick(now);
  return absl::OkStatus();
}

bool Averager::AllExpectedIn() const {
  for (const auto& t : config_.trainers) {
    if (accepted_.count(t)) continue;
    if (missed_.at(t) >= config_.missed_rounds_max) continue;  // not waited for
    return false;
  }
  return true;
}

void Averager::OnTick(Nanos now) {
  if (!open_) return;
  const Nanos elapsed = now - opened_at_;
  const size_t n = accepted_.size();
  if (n >= config_.quorum && AllExpectedIn()) {
    Close(now, false);
  } else if (elapsed >= deadline_ && n >= config_.quorum) {
    Close(now, true);
  } else if (elapsed >= config_.give_up_after) {
    Close(now, true);
  }
}

void Averager::Close(Nanos now, bool by_deadline) {
  open_ = false;
  closed_current_ = true;
  RoundOutcome out;
  out.round = round_;
  out.duration = now - opened_at_;
  out.closed_by_deadline = by_deadline;
  std::vector<Contribution> inputs;
  for (const auto& t : config_.trainers) {
    auto it = accepted_.find(t);
    if (it == accepted_.end()) {
      out.missing.push_back(t);
      ++missed_[t];
      continue;
    }
    missed_[t] = 0;
    out.used.push_back(t);
    inputs.emplace_back(it->second);
  }
  if (inputs.size() < config_.quorum) {
    out.status = absl::UnavailableError(absl::StrCat("round ", round_, ": ", inputs.size(), " of ",
                                                     config_.trainers.size(),
                                                     " contributions, below quorum ", config_.quorum));
    ++rounds_failed_;
  } else {
    out.aggregate.assign(config_.dim, 0.0f);
    out.status = aggregator_->Aggregate(inputs, out.aggregate, &out.report);
    if (out.status.ok()) {
      ++rounds_closed_;
    } else {
      out.aggregate.clear();
      ++rounds_failed_;
    }
  }
  outcome_ = std::move(out);
}

std::optional<RoundOutcome> Averager::TakeOutbox() {
  std::optional<RoundOutcome> out = std::move(outcome_);
  outcome_.reset();
  return out;
}

}  // namespace swarm::train
