#include "train/trainer_peer.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "train/contribution_codec.h"

namespace swarm::train {

Status TrainerPeerConfig::Validate() const {
  if (self.empty()) return absl::InvalidArgumentError("trainer peer: self is empty");
  if (std::find(trainers.begin(), trainers.end(), self) == trainers.end()) {
    return absl::InvalidArgumentError(absl::StrCat("trainer peer: trainers does not list self '", self, "'"));
  }
  if (first_round_deadline <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("trainer peer: first_round_deadline = ", first_round_deadline, " ns; must be > 0"));
  }
  if (give_up_after < first_round_deadline) {
    return absl::InvalidArgumentError(absl::StrCat("trainer peer: give_up_after = ", give_up_after,
                                                   " ns is shorter than first_round_deadline = ",
                                                   first_round_deadline, " ns"));
  }
  if (!aggregator.empty() && !(secure_clip > 0 && std::isfinite(secure_clip))) {
    return absl::InvalidArgumentError(
        absl::StrCat("trainer peer: secure_clip = ", secure_clip, "; must be finite and > 0"));
  }
  return absl::OkStatus();  // the rest is the Averager's (AveragerConfig::Validate)
}

StatusOr<std::unique_ptr<TrainerPeer>> TrainerPeer::Create(TrainerPeerConfig config,
                                                           std::unique_ptr<Aggregator> aggregator,
                                                           std::unique_ptr<Attack> attack,
                                                           std::optional<SecureTrainerKeys> secure) {
  SWARM_RETURN_IF_ERROR(config.Validate());
  if (config.aggregator.empty() != !secure.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("trainer peer: aggregator = '", config.aggregator,
                     "' and secure keys ", secure ? "given" : "missing", ": secure mode needs both"));
  }
  if (secure && (!secure->ctx || !secure->encryptor || !secure->decryptor)) {
    return absl::InvalidArgumentError("trainer peer: secure keys need a context, an encryptor and a decryptor");
  }
  AveragerConfig ac;
  ac.trainers = config.trainers;
  ac.dim = config.dim;
  ac.round_deadline = config.round_deadline;
  ac.give_up_after = config.give_up_after;
  ac.quorum = config.quorum;
  SWARM_ASSIGN_OR_RETURN(auto av, Averager::Create(std::move(ac), std::move(aggregator)));
  if (attack && attack->name() == "none") attack.reset();
  return std::unique_ptr<TrainerPeer>(
      new TrainerPeer(std::move(config), std::move(av), std::move(attack), std::move(secure)));
}

TrainerPeer::TrainerPeer(TrainerPeerConfig config, std::unique_ptr<Averager> averager,
                         std::unique_ptr<Attack> attack, std::optional<SecureTrainerKeys> secure)
    : config_(std::move(config)), averager_(std::move(averager)), attack_(std::move(attack)),
      secure_(std::move(secure)), rng_(config_.attack_seed) {}

const char* TrainerPeer::state_name() const {
  switch (state_) {
    case State::kIdle: return "idle";
    case State::kCrafting: return "crafting";
    case State::kCollecting: return "collecting";
    case State::kCommitting: return "committing";
  }
  return "?";
}

Status TrainerPeer::OnLocalStep(uint64_t round, std::vector<float> momentum, Nanos now) {
  if (state_ != State::kIdle) {
    return absl::FailedPreconditionError(absl::StrCat("trainer peer: local step for round ", round,
                                                      " while round ", round_, " is ", state_name()));
  }
  if (round <= round_) {
    return absl::FailedPreconditionError(
        absl::StrCat("trainer peer: round ", round, " is not after the previous round ", round_));
  }
  if (momentum.size() != config_.dim) {
    return absl::InvalidArgumentError(absl::StrCat("trainer peer: local step of round ", round, " has ",
                                                   momentum.size(), " values, expected dim = ", config_.dim));
  }
  round_ = round;
  opened_ = now;
  own_ = std::move(momentum);
  if (!secure()) {
    // The first round waits for every trainer to be up (start-up).
    SWARM_RETURN_IF_ERROR(averager_->Open(round, now, first_ ? config_.first_round_deadline : 0));
  }
  first_ = false;
  state_ = config_.byzantine && attack_ ? State::kCrafting : State::kCollecting;
  if (state_ == State::kCollecting) SendOwn(now);
  Pump(now);
  return absl::OkStatus();
}

Status TrainerPeer::OnContribution(const std::string& from, uint64_t round, std::vector<float> values, Nanos now) {
  Status st = averager_->OnContribution(from, round, std::move(values), now);
  Pump(now);
  return st;
}

Status TrainerPeer::OnSum(SecureSumMessage msg, Nanos now) {
  const uint64_t round = msg.header.round;
  const bool done_with_round = state_ == State::kIdle || state_ == State::kCommitting;
  if (round < round_ || (round == round_ && done_with_round) || round > round_ + config_.sums_ahead_max) {
    return absl::InvalidArgumentError(
        absl::StrCat("stale: sum for round ", round, ", this trainer is at round ", round_));
  }
  if (sums_.count(round)) return absl::InvalidArgumentError(absl::StrCat("duplicate: second sum for round ", round));
  sums_.emplace(round, std::move(msg));
  Pump(now);
  return absl::OkStatus();
}

void TrainerPeer::OnRootCommitted(uint64_t round, const Status& status) {
  if (state_ != State::kCommitting || round != round_) return;
  state_ = State::kIdle;
  TrainerAction a;
  a.round = round;
  if (!status.ok()) {
    a.kind = TrainerAction::kFail;
    a.status = absl::Status(status.code(),
                            absl::StrCat("round ", round, ": result root not committed: ", status.message()));
  } else {
    a.kind = TrainerAction::kApply;
    a.aggregate = std::move(pending_.aggregate);
    a.used = std::move(pending_.used);
    a.duration = pending_.duration;
  }
  pending_ = RoundOutcome{};
  outbox_.push_back(std::move(a));
}

void TrainerPeer::OnTick(Nanos now) { Pump(now); }

std::vector<TrainerAction> TrainerPeer::TakeOutbox() {
  std::vector<TrainerAction> out;
  out.swap(outbox_);
  return out;
}

void TrainerPeer::Pump(Nanos now) {
  if (state_ == State::kCrafting) {
    // Omniscient: wait (bounded by half the deadline) for the others.
    const bool all_in = averager_->accepted().size() + 1 >= averager_->expected_alive();
    if (all_in || now - opened_ > config_.round_deadline / 2 || !averager_->open() ||
        averager_->round() != round_ || secure()) {
      Craft();
      state_ = State::kCollecting;
      SendOwn(now);
    }
  }
  if (state_ != State::kCollecting) return;
  if (secure()) {
    SecureCheck(now);
    return;
  }
  averager_->OnTick(now);
  if (auto out = averager_->TakeOutbox()) {
    if (out->round == round_) Finish(std::move(*out));
  }
}

void TrainerPeer::Craft() {
  std::vector<Contribution> honest;
  if (secure()) {
    // Encrypted averaging hides the others' contributions: its own only.
    honest.push_back(Contribution(own_));
  } else {
    for (const auto& [from, vec] : averager_->accepted()) {
      if (from != config_.self) honest.push_back(Contribution(vec));
    }
    if (honest.empty()) return;  // nothing to be omniscient about: sends its honest vector
  }
  std::vector<float> out(own_.size());
  if (attack_->Craft(honest, own_, out, rng_).ok()) own_ = std::move(out);
}

void TrainerPeer::SendOwn(Nanos now) {
  const ContributionHeader header{.job = config_.job, .round = round_, .sender = config_.self};
  TrainerAction send;
  send.kind = TrainerAction::kSend;
  send.round = round_;
  if (!secure()) {
    send.envelope_kind = kTrainKind;
    send.payload = std::make_shared<const Bytes>(EncodeContributionF32(header, own_));
    for (const auto& p : config_.trainers) {
      if (p != config_.self) send.to.push_back(p);
    }
    if (!send.to.empty()) outbox_.push_back(std::move(send));
    (void)averager_->OnContribution(config_.self, round_, std::move(own_), now);
    own_.clear();
    return;
  }
  const double clip = config_.secure_clip;
  for (auto& x : own_) {
    if (std::fabs(x) > clip) {
      x = static_cast<float>(std::clamp<double>(x, -clip, clip));
      ++values_clipped_;
    }
  }
  auto ev = secure_->encryptor->Encrypt(own_);
  own_.clear();
  if (!ev.ok()) {
    RoundOutcome out;
    out.round = round_;
    out.status = ev.status();
    out.duration = now - opened_;
    Finish(std::move(out));
    return;
  }
  send.envelope_kind = kTrainCtKind;
  send.payload = std::make_shared<const Bytes>(EncodeSecureCiphertext(
      {.job = config_.job, .round = round_, .sender = config_.self}, fhe::SerializeEncryptedVector(*secure_->ctx, *ev)));
  send.to = {config_.aggregator};
  ciphertext_bytes_sent_ += static_cast<int64_t>(send.payload->size());
  outbox_.push_back(std::move(send));
}

void TrainerPeer::SecureCheck(Nanos now) {
  RoundOutcome out;
  out.round = round_;
  out.duration = now - opened_;
  auto it = sums_.find(round_);
  if (it == sums_.end()) {
    if (!sums_.empty() && sums_.rbegin()->first > round_) {
      // The aggregator closes rounds in order: this round's sum will not
      // come (it was lost, or the round failed). Skip it and catch up.
      out.status = absl::UnavailableError(absl::StrCat("round ", round_, ": no encrypted sum (the aggregator is at round ",
                                                       sums_.rbegin()->first, ")"));
      Finish(std::move(out));
    } else if (now - opened_ > config_.give_up_after) {
      out.status = absl::UnavailableError(absl::StrCat("round ", round_, ": no encrypted sum from the aggregator ",
                                                       config_.aggregator, " within give_up_after"));
      Finish(std::move(out));
    }
    return;
  }
  SecureSumMessage msg = std::move(it->second);
  sums_.erase(sums_.begin(), std::next(it));
  auto sum = fhe::DeserializeEncryptedVector(*secure_->ctx, msg.blob, config_.dim);
  if (sum.ok() && (sum->length != config_.dim || sum->contributors != msg.used.size())) {
    sum = absl::InvalidArgumentError(absl::StrCat("the sum has ", sum->length, " values and claims ",
                                                  sum->contributors, " contributors but lists ", msg.used.size()));
  }
  if (!sum.ok()) {
    out.status = absl::InvalidArgumentError(absl::StrCat("round ", round_, ": bad sum: ", sum.status().message()));
    Finish(std::move(out), "malformed");
    return;
  }
  auto mean = secure_->decryptor->DecryptMean(*sum);
  if (!mean.ok()) {
    out.status = mean.status();
    Finish(std::move(out));
    return;
  }
  out.aggregate = std::move(mean).value();
  out.used = msg.used;
  last_contributors_ = static_cast<int64_t>(msg.used.size());
  std::string reason;
  if (std::find(msg.used.begin(), msg.used.end(), config_.self) == msg.used.end()) {
    // Applied all the same; our contribution missed the round.
    ++rounds_not_included_;
    reason = "late";
  }
  Finish(std::move(out), std::move(reason));
}

void TrainerPeer::Finish(RoundOutcome out, std::string count_reason) {
  TrainerAction a;
  a.round = out.round;
  a.duration = out.duration;
  a.count_reason = std::move(count_reason);
  a.included = a.count_reason != "late";
  if (!out.status.ok()) {
    a.kind = TrainerAction::kSkip;
    a.status = std::move(out.status);
    state_ = State::kIdle;
  } else if (config_.require_committed_root) {
    // The committee must commit the round's root before it is applied.
    a.kind = TrainerAction::kCommitRoot;
    a.aggregate = out.aggregate;
    pending_ = std::move(out);
    state_ = State::kCommitting;
  } else {
    a.kind = TrainerAction::kApply;
    a.aggregate = std::move(out.aggregate);
    a.used = std::move(out.used);
    state_ = State::kIdle;
  }
  outbox_.push_back(std::move(a));
}

}  // namespace swarm::train
