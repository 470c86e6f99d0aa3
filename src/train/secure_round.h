// The aggregating peer's side of encrypted averaging (trainer.secure_agg =
// "ckks"), sans-I/O. Torch-free.
//
// Every round r each trainer encrypts its contribution (worker momentum,
// clipped to |v| <= clip) under the group's CKKS public key and sends it to
// the aggregator. The aggregator holds NO secret key: it checks each
// ciphertext's shape, key id and scale, adds it to the round's running
// encrypted sum (fhe::SecureSumAggregator) and, when the round closes, hands
// the sum, the contributor count and the list of contributors to the driver,
// which sends them to every trainer. Trainers decrypt only the sum.
//
// The driver calls
//   OnContribution(from, r, wire, now)  a "train_ct" blob arrived (SWSS bytes)
//   OnTick(now)                         time passed
//   TakeOutbox()                        the oldest closed round's sum (call until nullopt)
//
// Rounds: the aggregator does not know when trainers start computing, so a
// round's clock starts at its FIRST accepted contribution. It closes when
// every expected trainer contributed, or `round_deadline` after that first
// contribution (`first_round_deadline` for the first round, while trainers
// start) with at least `quorum`, or `give_up_after` after it with fewer (a
// failed outcome: the trainers skip the step). Then round r+1 becomes current
// and any contributions kept for it are added. With `rounds` > 0 (the job's
// steps) nothing after that round is accepted.
//
// Exclusions (never added, counted by reason):
//   not_a_trainer   sender not in config.trainers
//   wrong_round     round beyond current + future_rounds_max, beyond `rounds`,
//                   or older than the previous future_rounds_max rounds
//   late            for a round that already closed (recently)
//   duplicate       a second contribution by one sender for one round
//   bad_ciphertext  the blob fails to deserialize, has another length than
//                   dim, another key id or scale, or would overflow the sum's
//                   capacity
// Contributions for up to future_rounds_max rounds ahead are kept (a trainer
// that gave up on a round moved on); at most one per sender per round. A kept
// one also starts the current round's clock if it has none yet, so a round
// nobody contributes to any more closes (failed) at give_up_after instead of
// stalling the ones behind it. Trainers (node/trainer/extension.cpp) skip a
// round whose sum has not come once a later round's sum arrives.
// Liveness as train::Averager: a trainer that missed missed_rounds_max rounds
// in a row is no longer waited for until it contributes again.
//
// What this cannot check (see docs/fhe.md "Secure aggregation: trust
// model"): the values inside a ciphertext (a trainer may exceed its clip).
// Thread-safety: none; one driver thread or a lock around every call.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/status.h"
#include "fhe/ckks.h"
#include "fhe/params.h"
#include "fhe/secure_sum.h"

namespace swarm::train {

enum class SecureExclusion { kNotATrainer, kWrongRound, kLate, kDuplicate, kBadCiphertext };
constexpr int kSecureExclusionKinds = 5;
// "not_a_trainer", "wrong_round", "late", "duplicate", "bad_ciphertext".
const char* SecureExclusionName(SecureExclusion e);

struct SecureRoundConfig {
  std::vector<std::string> trainers;         // every trainer of the job
  size_t dim = 0;                            // values per contribution
  Nanos round_deadline = Seconds(2);         // after the round's first contribution
  Nanos first_round_deadline = Seconds(30);  // the same for the first round
  Nanos give_up_after = Seconds(60);         // after the first contribution: close as failed
  size_t quorum = 1;                         // contributions needed at the deadline
  uint64_t future_rounds_max = 4;
  int missed_rounds_max = 2;
  uint64_t first_round = 1;
  uint64_t rounds = 0;  // last round of the job; 0 = unbounded
  Status Validate() const;  // names the field and value
};

struct SecureRoundOutcome {
  uint64_t round = 0;
  Status status;                     // OK, or Unavailable below quorum
  fhe::EncryptedVector sum;          // when OK; sum.contributors == used.size()
  std::vector<std::string> used;     // in trainers order
  std::vector<std::string> missing;  // expected trainers not heard from
  Nanos duration = 0;                // first contribution to close
  bool closed_by_deadline = false;
};

class SecureSumRound {
 public:
  // ctx: the group's CKKS parameters; group_key: the key id every chunk must
  // carry; scale: the scale every contribution must use (0 = ctx default).
  static StatusOr<std::unique_ptr<SecureSumRound>> Create(SecureRoundConfig config, fhe::ContextPtr ctx,
                                                          fhe::KeyId group_key, double scale = 0);

  // OK when added (or kept for a later round); otherwise InvalidArgument
  // whose message starts with the exclusion name.
  Status OnContribution(const std::string& from, uint64_t round, ByteSpan wire, Nanos now);
  void OnTick(Nanos now);
  std::optional<SecureRoundOutcome> TakeOutbox();

  uint64_t round() const { return round_; }          // the current round
  bool done() const { return config_.rounds > 0 && round_ > config_.rounds; }
  size_t accepted() const { return used_.size(); }   // in the current round
  int64_t excluded(SecureExclusion e) const { return excluded_[static_cast<int>(e)]; }
  int64_t rounds_closed() const { return rounds_closed_; }
  int64_t rounds_failed() const { return rounds_failed_; }
  int64_t contributions_summed() const { return contributions_summed_; }
  size_t expected_alive() const;
  const SecureRoundConfig& config() const { return config_; }

 private:
  SecureSumRound(SecureRoundConfig config, fhe::ContextPtr ctx, fhe::KeyId key, double scale);
  Status Exclude(SecureExclusion e, const std::string& detail);
  StatusOr<fhe::EncryptedVector> Check(const std::string& from, ByteSpan wire);
  Status Add(const std::string& from, fhe::EncryptedVector v, Nanos now);
  bool AllExpectedIn() const;
  void Close(Nanos now, bool by_deadline);
  void Advance(Nanos now);

  SecureRoundConfig config_;
  fhe::ContextPtr ctx_;
  fhe::KeyId key_;
  double scale_;
  std::set<std::string> members_;
  std::map<std::string, int> missed_;
  uint64_t round_;
  std::optional<Nanos> first_at_;  // first contribution of the current round
  fhe::SecureSumAggregator sum_;
  std::set<std::string> used_;
  std::map<uint64_t, std::map<std::string, fhe::EncryptedVector>> future_;
  std::deque<SecureRoundOutcome> outcomes_;
  int64_t excluded_[kSecureExclusionKinds] = {};
  int64_t rounds_closed_ = 0, rounds_failed_ = 0, contributions_summed_ = 0;
};

// The smallest CKKS preset (N = 4096, 8192, ...) whose level-0 capacity holds
// the sum of `contributors` vectors of |v| <= clip at the preset's scale
// (fhe/secure_sum.h: bound * scale < q_0 / 4). Only additions are needed, so
// no relinearization or Galois keys. Errors name both values.
StatusOr<fhe::ParamSpec> SecureAggParams(size_t contributors, double clip);

}  // namespace swarm::train
