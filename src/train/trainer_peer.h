// One trainer peer's side of a data-parallel training round, sans-I/O.
//
// What a trainer does each step, minus the I/O: it takes this step's local
// result (the worker momentum its model computed), crafts what it sends if it
// is Byzantine (train/attack.h), sends it (plaintext to every other trainer,
// or CKKS-encrypted to the aggregator peer), collects the others' (a
// train::Averager, train/averaging_round.h) or waits for the aggregator's
// encrypted sum (train/secure_round.h is the aggregator's side), aggregates,
// asks for the round's root to be committed when a committee is required,
// and says whether to apply the aggregate or skip the step. It never touches
// a socket, a thread, a clock or LibTorch: the driver
// (node/trainer/extension.cpp; tests/train/trainer_peer_sim_test.cpp on
// sim::Simulator) calls
//
//   OnLocalStep(round, momentum, now)   this step's local result is ready
//   OnContribution(from, round, v, now) a "train" contribution arrived
//                                       (from: a name the driver checked is
//                                       the envelope signer's, see
//                                       node/envelope_admission.h)
//   OnSum(msg, now)                     a "train_sum" arrived (secure mode)
//   OnRootCommitted(round, status)      the committee answered (CommitRoot)
//   OnTick(now)                         time passed
//   TakeOutbox()                        what to do, in order
//
// and acts on each TrainerAction: kSend (an encoded payload to peers), kCommitRoot
// (commit the aggregate's root, then call OnRootCommitted), kApply (apply the
// aggregate with the optimizer; the step is done), kSkip (the round failed:
// skip the step), kFail (stop training; status says why).
//
// A round's life: OnLocalStep opens round r (the first round with
// first_round_deadline, later ones with round_deadline; give_up_after always
// bounds it). A Byzantine peer with an omniscient attack (alie, ipm) waits
// until every trainer still waited for has contributed or half the round
// deadline passed, then crafts from what it has; other attacks craft at once
// from its own vector. The round closes as the Averager says (every expected
// trainer in, or the deadline with a quorum, or give_up_after: failed), so a
// crashed or stalled trainer is never waited on past the deadline once a
// quorum is in, and no round outlives give_up_after. Secure mode: the value
// clipped to [-secure_clip, clip] is encrypted and sent to the aggregator;
// the round closes when its sum arrives (decrypted mean applied, even if this
// trainer's own ciphertext missed it: counted in rounds_not_included), when
// a later round's sum arrives (the aggregator moved on: skipped) or at
// give_up_after (skipped).
//
// Errors: OnLocalStep refuses a round not above the previous one or a
// vector of another size (FailedPrecondition / InvalidArgument, naming
// both). OnContribution returns the Averager's refusals (message starts with
// the exclusion name); OnSum refuses "stale" and "duplicate" sums and
// "malformed" ones at decryption (counted by the driver).
// Thread-safety: none; one driver thread or a lock around every call.
// Ownership: owns its Averager, Aggregator, Attack and secure keys.
// Torch-free, I/O-free.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/rng.h"
#include "common/status.h"
#include "fhe/secure_sum.h"
#include "train/aggregator.h"
#include "train/attack.h"
#include "train/averaging_round.h"
#include "train/secure_codec.h"

namespace swarm::train {

inline constexpr char kTrainKind[] = "train";         // plaintext contribution, trainer -> trainer
inline constexpr char kTrainCtKind[] = "train_ct";    // secure: trainer -> aggregator
inline constexpr char kTrainSumKind[] = "train_sum";  // secure: aggregator -> trainers

// The trainer's side of encrypted averaging: the group's CKKS context, an
// encryptor under the group public key and a decryptor holding the secret.
struct SecureTrainerKeys {
  fhe::ContextPtr ctx;
  std::unique_ptr<fhe::SecureSumEncryptor> encryptor;
  std::unique_ptr<fhe::SecureSumDecryptor> decryptor;
};

struct TrainerPeerConfig {
  std::string self;                   // this trainer's name (its address)
  std::vector<std::string> trainers;  // every trainer of the job, self included, same order everywhere
  uint64_t job = 0;                   // job id stamped on every payload
  size_t dim = 0;                     // floats per contribution
  Nanos round_deadline = Seconds(2);
  Nanos first_round_deadline = Seconds(30);
  Nanos give_up_after = Seconds(60);
  size_t quorum = 1;
  bool byzantine = false;             // lies with `attack` (evaluation only)
  bool require_committed_root = false;
  // Secure mode when `aggregator` is set: the aggregator peer's name.
  std::string aggregator;
  double secure_clip = 4;
  uint64_t sums_ahead_max = 4;        // train_sum rounds ahead kept
  uint64_t attack_seed = 1;
  Status Validate() const;            // names the field and value
};

struct TrainerAction {
  enum Kind { kSend, kCommitRoot, kApply, kSkip, kFail };
  Kind kind = kSend;
  uint64_t round = 0;
  // kSend: envelope kind, recipients and the encoded payload (shared by all).
  std::string envelope_kind;
  std::vector<std::string> to;
  std::shared_ptr<const Bytes> payload;
  // kCommitRoot, kApply: the round's aggregate.
  std::vector<float> aggregate;
  std::vector<std::string> used;   // kApply: senders aggregated
  bool included = true;            // kApply (secure): this trainer's own ciphertext was in the sum
  std::string count_reason;        // non-empty: count one exclusion by this reason ("late", "malformed")
  Status status;                   // kSkip, kFail: why
  Nanos duration = 0;              // kApply, kSkip: open to close
};

class TrainerPeer {
 public:
  // `attack` may be null (honest, or attack "none"); `secure` is required
  // exactly when config.aggregator is set.
  static StatusOr<std::unique_ptr<TrainerPeer>> Create(TrainerPeerConfig config,
                                                       std::unique_ptr<Aggregator> aggregator,
                                                       std::unique_ptr<Attack> attack,
                                                       std::optional<SecureTrainerKeys> secure = std::nullopt);

  Status OnLocalStep(uint64_t round, std::vector<float> momentum, Nanos now);
  Status OnContribution(const std::string& from, uint64_t round, std::vector<float> values, Nanos now);
  Status OnSum(SecureSumMessage msg, Nanos now);
  void OnRootCommitted(uint64_t round, const Status& status);
  void OnTick(Nanos now);
  std::vector<TrainerAction> TakeOutbox();

  // True between OnLocalStep and the round's kApply/kSkip/kFail.
  bool busy() const { return state_ != State::kIdle; }
  // The round being worked on, or the last one.
  uint64_t round() const { return round_; }
  bool secure() const { return !config_.aggregator.empty(); }
  // "idle", "crafting", "collecting", "committing".
  const char* state_name() const;
  const Averager& averager() const { return *averager_; }
  const TrainerPeerConfig& config() const { return config_; }
  int64_t values_clipped() const { return values_clipped_; }
  int64_t rounds_not_included() const { return rounds_not_included_; }
  int64_t last_contributors() const { return last_contributors_; }
  int64_t ciphertext_bytes_sent() const { return ciphertext_bytes_sent_; }

 private:
  enum class State { kIdle, kCrafting, kCollecting, kCommitting };
  TrainerPeer(TrainerPeerConfig config, std::unique_ptr<Averager> averager, std::unique_ptr<Attack> attack,
              std::optional<SecureTrainerKeys> secure);
  void Pump(Nanos now);
  void Craft();
  void SendOwn(Nanos now);
  void SecureCheck(Nanos now);
  void Finish(RoundOutcome out, std::string count_reason = {});

  TrainerPeerConfig config_;
  std::unique_ptr<Averager> averager_;
  std::unique_ptr<Attack> attack_;
  std::optional<SecureTrainerKeys> secure_;
  Rng rng_;
  State state_ = State::kIdle;
  uint64_t round_ = 0;
  bool first_ = true;
  Nanos opened_ = 0;
  std::vector<float> own_;
  std::map<uint64_t, SecureSumMessage> sums_;
  RoundOutcome pending_;  // kCommitting: the closed round awaiting its root
  std::vector<TrainerAction> outbox_;
  int64_t values_clipped_ = 0, rounds_not_included_ = 0, last_contributors_ = 0, ciphertext_bytes_sent_ = 0;
};

}  // namespace swarm::train
