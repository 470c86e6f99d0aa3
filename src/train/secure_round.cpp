#include "train/secure_round.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace swarm::train {

const char* SecureExclusionName(SecureExclusion e) {
  switch (e) {
    case SecureExclusion::kNotATrainer: return "not_a_trainer";
    case SecureExclusion::kWrongRound: return "wrong_round";
    case SecureExclusion::kLate: return "late";
    case SecureExclusion::kDuplicate: return "duplicate";
    case SecureExclusion::kBadCiphertext: return "bad_ciphertext";
  }
  return "unknown";
}

Status SecureRoundConfig::Validate() const {
  if (trainers.empty()) return absl::InvalidArgumentError("secure round: trainers is empty");
  std::set<std::string> seen;
  for (const auto& t : trainers) {
    if (t.empty()) return absl::InvalidArgumentError("secure round: trainers holds an empty name");
    if (!seen.insert(t).second) {
      return absl::InvalidArgumentError(absl::StrCat("secure round: trainer '", t, "' is listed twice"));
    }
  }
  if (dim == 0 || dim > fhe::kSecureSumLengthMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("secure round: dim = ", dim, " must be in [1, ", fhe::kSecureSumLengthMax, "]"));
  }
  if (round_deadline <= 0 || first_round_deadline <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("secure round: round_deadline = ", round_deadline,
                                                   " ns and first_round_deadline = ", first_round_deadline,
                                                   " ns must be > 0"));
  }
  if (give_up_after < round_deadline || give_up_after < first_round_deadline) {
    return absl::InvalidArgumentError(absl::StrCat("secure round: give_up_after = ", give_up_after,
                                                   " ns is shorter than a round deadline"));
  }
  if (quorum < 1 || quorum > trainers.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("secure round: quorum = ", quorum, " must be in [1, ", trainers.size(), "]"));
  }
  if (missed_rounds_max < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("secure round: missed_rounds_max = ", missed_rounds_max, "; must be >= 1"));
  }
  if (first_round < 1 || (rounds > 0 && first_round > rounds)) {
    return absl::InvalidArgumentError(
        absl::StrCat("secure round: first_round = ", first_round, " must be in [1, rounds = ", rounds, "]"));
  }
  return absl::OkStatus();
}

SecureSumRound::SecureSumRound(SecureRoundConfig config, fhe::ContextPtr ctx, fhe::KeyId key, double scale)
    : config_(std::move(config)),
      ctx_(ctx),
      key_(key),
      scale_(scale),
      round_(config_.first_round),
      sum_(std::move(ctx), key) {
  members_.insert(config_.trainers.begin(), config_.trainers.end());
  for (const auto& t : config_.trainers) missed_[t] = 0;
}

StatusOr<std::unique_ptr<SecureSumRound>> SecureSumRound::Create(SecureRoundConfig config, fhe::ContextPtr ctx,
                                                                 fhe::KeyId group_key, double scale) {
  SWARM_RETURN_IF_ERROR(config.Validate());
  if (!ctx || ctx->scheme() != fhe::Scheme::kCkks) {
    return absl::InvalidArgumentError("secure round: needs a CKKS context");
  }
  if (scale == 0) scale = ctx->spec().scale;
  return std::unique_ptr<SecureSumRound>(new SecureSumRound(std::move(config), std::move(ctx), group_key, scale));
}

Status SecureSumRound::Exclude(SecureExclusion e, const std::string& detail) {
  ++excluded_[static_cast<int>(e)];
  return absl::InvalidArgumentError(absl::StrCat(SecureExclusionName(e), ": ", detail));
}

size_t SecureSumRound::expected_alive() const {
  size_t n = 0;
  for (const auto& [t, m] : missed_) n += m < config_.missed_rounds_max ? 1 : 0;
  return n;
}

StatusOr<fhe::EncryptedVector> SecureSumRound::Check(const std::string& from, ByteSpan wire) {
  auto v = fhe::DeserializeEncryptedVector(*ctx_, wire, config_.dim);
  if (!v.ok()) {
    return Exclude(SecureExclusion::kBadCiphertext,
                   absl::StrCat("contribution from '", from, "': ", v.status().message()));
  }
  if (v->length != config_.dim) {
    return Exclude(SecureExclusion::kBadCiphertext, absl::StrCat("contribution from '", from, "' has ", v->length,
                                                                  " values, expected ", config_.dim));
  }
  if (v->contributors != 1) {
    return Exclude(SecureExclusion::kBadCiphertext, absl::StrCat("contribution from '", from, "' claims ",
                                                                  v->contributors, " contributors, expected 1"));
  }
  for (size_t i = 0; i < v->chunks.size(); ++i) {
    if (v->chunks[i].key_id != key_) {
      return Exclude(SecureExclusion::kBadCiphertext,
                     absl::StrCat("contribution from '", from, "': chunk ", i, " is not under the group key"));
    }
  }
  if (v->chunks[0].scale != scale_) {
    return Exclude(SecureExclusion::kBadCiphertext,
                   absl::StrFormat("contribution from '%s' has scale 2^%.3f, the group uses 2^%.3f", from,
                                   std::log2(v->chunks[0].scale), std::log2(scale_)));
  }
  return std::move(v).value();
}

Status SecureSumRound::Add(const std::string& from, fhe::EncryptedVector v, Nanos now) {
  Status st = sum_.Add(v);
  if (!st.ok()) {
    return Exclude(SecureExclusion::kBadCiphertext, absl::StrCat("contribution from '", from, "': ", st.message()));
  }
  used_.insert(from);
  missed_[from] = 0;  // a trainer we had stopped waiting for is back
  if (!first_at_) first_at_ = now;
  return absl::OkStatus();
}

Status SecureSumRound::OnContribution(const std::string& from, uint64_t round, ByteSpan wire, Nanos now) {
  if (!members_.count(from)) {
    return Exclude(SecureExclusion::kNotATrainer, absl::StrCat("sender '", from, "' is not a trainer of this job"));
  }
  if (round < round_) {
    const bool recent = round_ - round <= config_.future_rounds_max;
    return Exclude(recent ? SecureExclusion::kLate : SecureExclusion::kWrongRound,
                   absl::StrCat("contribution from '", from, "' for round ", round, " but round ", round_,
                                " is current"));
  }
  if (round - round_ > config_.future_rounds_max || (config_.rounds > 0 && round > config_.rounds)) {
    return Exclude(SecureExclusion::kWrongRound,
                   absl::StrCat("contribution from '", from, "' for round ", round, " while round ", round_,
                                " is current (at most ", config_.future_rounds_max, " ahead, last round ",
                                config_.rounds, ")"));
  }
  const bool current = round == round_;
  if (current ? used_.count(from) > 0 : future_[round].count(from) > 0) {
    return Exclude(SecureExclusion::kDuplicate, absl::StrCat("second contribution from '", from, "' for round ", round));
  }
  SWARM_ASSIGN_OR_RETURN(fhe::EncryptedVector v, Check(from, wire));
  if (!current) {
    future_[round].emplace(from, std::move(v));
    // Trainers moved on without this round (they gave up on it): start its
    // clock so it closes (as failed) at give_up_after instead of never.
    if (!first_at_) first_at_ = now;
    return absl::OkStatus();
  }
  SWARM_RETURN_IF_ERROR(Add(from, std::move(v), now));
  OnTick(now);
  return absl::OkStatus();
}

bool SecureSumRound::AllExpectedIn() const {
  for (const auto& t : config_.trainers) {
    if (used_.count(t)) continue;
    if (missed_.at(t) >= config_.missed_rounds_max) continue;  // not waited for
    return false;
  }
  return true;
}

void SecureSumRound::OnTick(Nanos now) {
  // Closing a round may complete the next one from kept contributions.
  while (!done() && first_at_) {
    const Nanos elapsed = now - *first_at_;
    const Nanos deadline = round_ == config_.first_round ? config_.first_round_deadline : config_.round_deadline;
    const size_t n = used_.size();
    if (n >= config_.quorum && AllExpectedIn()) {
      Close(now, false);
    } else if (elapsed >= deadline && n >= config_.quorum) {
      Close(now, true);
    } else if (elapsed >= config_.give_up_after) {
      Close(now, true);
    } else {
      return;
    }
  }
}

void SecureSumRound::Close(Nanos now, bool by_deadline) {
  SecureRoundOutcome out;
  out.round = round_;
  out.duration = now - *first_at_;
  out.closed_by_deadline = by_deadline;
  for (const auto& t : config_.trainers) {
    if (used_.count(t)) {
      out.used.push_back(t);
      missed_[t] = 0;
    } else {
      out.missing.push_back(t);
      ++missed_[t];
    }
  }
  if (out.used.size() < config_.quorum) {
    out.status = absl::UnavailableError(absl::StrCat("round ", round_, ": ", out.used.size(), " of ",
                                                     config_.trainers.size(), " contributions, below quorum ",
                                                     config_.quorum));
    ++rounds_failed_;
  } else {
    out.sum = sum_.sum();
    contributions_summed_ += static_cast<int64_t>(out.used.size());
    ++rounds_closed_;
  }
  outcomes_.push_back(std::move(out));
  Advance(now);
}

void SecureSumRound::Advance(Nanos now) {
  ++round_;
  sum_.Reset();
  used_.clear();
  first_at_.reset();
  for (auto it = future_.begin(); it != future_.end();) {
    if (it->first < round_) {
      it = future_.erase(it);
    } else {
      ++it;
    }
  }
  auto it = future_.find(round_);
  if (it == future_.end()) return;
  auto kept = std::move(it->second);
  future_.erase(it);
  for (auto& [from, v] : kept) (void)Add(from, std::move(v), now);  // a failure is counted as bad_ciphertext
}

std::optional<SecureRoundOutcome> SecureSumRound::TakeOutbox() {
  if (outcomes_.empty()) return std::nullopt;
  SecureRoundOutcome out = std::move(outcomes_.front());
  outcomes_.pop_front();
  return out;
}

StatusOr<fhe::ParamSpec> SecureAggParams(size_t contributors, double clip) {
  if (contributors < 1) return absl::InvalidArgumentError("secure aggregation: contributors must be >= 1");
  if (!std::isfinite(clip) || !(clip > 0)) {
    return absl::InvalidArgumentError(absl::StrCat("secure aggregation: clip = ", clip, " must be > 0"));
  }
  for (size_t n = fhe::kPolyDegreeMin; n <= fhe::kPolyDegreeMax; n *= 2) {
    SWARM_ASSIGN_OR_RETURN(fhe::ParamSpec spec, fhe::CkksPreset(n));
    // Capacity of fhe/secure_sum.h: bound * scale < q_0 / 4.
    const double need = std::log2(static_cast<double>(contributors) * clip * spec.scale);
    if (need < spec.data_prime_bits[0] - 2 - 0.01) return spec;
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "secure aggregation: %d contributions of |v| <= clip = %g do not fit any CKKS preset's level-0 capacity; "
      "lower the clip or the number of trainers",
      contributors, clip));
}

}  // namespace swarm::train
