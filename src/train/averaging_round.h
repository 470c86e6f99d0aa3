// One trainer's side of the gradient-averaging protocol, sans-I/O.
//
// Every round r, each trainer broadcasts one contribution (its worker momentum,
// a flat float vector of `dim` elements) to the other trainers and feeds what
// it receives into an Averager. The Averager never touches a socket, a thread
// or a clock: the driver calls
//
//   Open(r, now)                    start collecting round r
//   OnContribution(from, r, v, now) a contribution arrived (own one included)
//   OnTick(now)                     time passed
//   TakeOutbox()                    the round's result, once it closed (the outbox
//                                   holds at most one outcome)
//
// A round closes when every expected trainer contributed, or the deadline
// (`round_deadline` after Open) passed and at least `quorum` did; then the
// robust aggregator runs over what was accepted. After `give_up_after` with
// fewer than `quorum` the round closes as failed (outcome.status non-OK) and
// the driver skips the step.
//
// Exclusions (never aggregated, counted by reason):
//   not_a_trainer  sender is not in config.trainers
//   wrong_round    round outside [current, current + future_rounds_max]
//                  (older rounds than the previous one, or far ahead)
//   late           for a round that already closed (the previous one, or the
//                  current one after it closed)
//   wrong_size     vector size != dim
//   non_finite     a NaN or Inf element
//   duplicate      a second contribution by the same sender for one round
// Contributions for rounds ahead of the current one (a faster peer) are kept
// and used when that round opens.
//
// Liveness: a trainer that missed `missed_rounds_max` consecutive rounds is
// no longer waited for (the round closes without it once the others are in);
// any new contribution from it makes it expected again. expected_alive()
// is the "peers alive" figure.
//
// Thread-safety: none; one driver thread (or a lock around every call).
// Torch-free.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "train/aggregator.h"

namespace swarm::train {

enum class Exclusion { kNotATrainer, kWrongRound, kLate, kWrongSize, kNonFinite, kDuplicate };
constexpr int kExclusionKinds = 6;
// "not_a_trainer", "wrong_round", "late", "wrong_size", "non_finite", "duplicate".
const char* ExclusionName(Exclusion e);

struct AveragerConfig {
  std::vector<std::string> trainers;  // every trainer of the job, self included
  size_t dim = 0;                     // elements per contribution
  Nanos round_deadline = Seconds(2);  // after Open: close with >= quorum
  Nanos give_up_after = Seconds(20);  // after Open: close as failed
  size_t quorum = 1;                  // contributions needed at the deadline
  uint64_t future_rounds_max = 4;     // rounds ahead of the current one kept
  int missed_rounds_max = 2;          // consecutive misses before not waited for
  Status Validate() const;            // names the field and value
};

struct RoundOutcome {
  uint64_t round = 0;
  Status status;                       // OK, or Unavailable when below quorum
  std::vector<float> aggregate;        // dim elements when status is OK
  std::vector<std::string> used;       // senders aggregated, in trainers order
  std::vector<std::string> missing;    // expected senders not heard from
  AggregationReport report;
  Nanos duration = 0;                  // Open to close
  bool closed_by_deadline = false;
};

class Averager {
 public:
  // `aggregator` is owned; its own NaN check is a second line of defence.
  static StatusOr<std::unique_ptr<Averager>> Create(AveragerConfig config,
                                                    std::unique_ptr<Aggregator> aggregator);

  // Starts round `round` (> the previous one). Kept contributions for it are
  // accepted now. A round still open is abandoned (counted in rounds_failed).
  // `deadline` > 0 replaces round_deadline for this round (e.g. a longer
  // first round while trainers start); give_up_after still applies.
  Status Open(uint64_t round, Nanos now, Nanos deadline = 0);
  // OK when accepted (or kept for a later round); otherwise InvalidArgument
  // whose message starts with the exclusion name, e.g.
  // "wrong_size: contribution from 'a' has 3 elements, expected 4".
  Status OnContribution(const std::string& from, uint64_t round, std::vector<float> vec, Nanos now);
  void OnTick(Nanos now);
  // The closed round's outcome, once (nullopt while open or after taken).
  std::optional<RoundOutcome> TakeOutbox();

  uint64_t round() const { return round_; }
  bool open() const { return open_; }
  // Accepted contributions of the current round (for an omniscient attacker
  // and tests), sender → vector.
  const std::map<std::string, std::vector<float>>& accepted() const { return accepted_; }
  int64_t excluded(Exclusion e) const { return excluded_[static_cast<int>(e)]; }
  int64_t rounds_closed() const { return rounds_closed_; }
  int64_t rounds_failed() const { return rounds_failed_; }
  // Trainers currently waited for (not past missed_rounds_max).
  size_t expected_alive() const;
  const AveragerConfig& config() const { return config_; }

 private:
  Averager(AveragerConfig config, std::unique_ptr<Aggregator> aggregator);
  Status Exclude(Exclusion e, const std::string& detail);
  Status Accept(const std::string& from, std::vector<float> vec);
  bool AllExpectedIn() const;
  void Close(Nanos now, bool by_deadline);

  AveragerConfig config_;
  std::unique_ptr<Aggregator> aggregator_;
  std::set<std::string> members_;
  std::map<std::string, int> missed_;  // consecutive rounds missed
  uint64_t round_ = 0;
  bool open_ = false;
  bool closed_current_ = false;
  Nanos opened_at_ = 0;
  Nanos deadline_ = 0;  // of the current round
  std::map<std::string, std::vector<float>> accepted_;
  std::map<uint64_t, std::map<std::string, std::vector<float>>> future_;
  std::optional<RoundOutcome> outcome_;
  int64_t excluded_[kExclusionKinds] = {};
  int64_t rounds_closed_ = 0, rounds_failed_ = 0;
};

}  // namespace swarm::train
