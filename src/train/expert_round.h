// Robust per-round updates of hosted experts, sans-I/O.
//
// An expert host no longer applies each trainer's Backward as its own
// optimizer step (one caller could then steer or wreck the expert). Instead,
// per expert and per training round r, it collects one parameter gradient per
// caller (the gradient the host computed from that trainer's (x, dL/dy), or a
// vector the trainer sent), clips each to `clip_norm`, aggregates them with
// the job's robust aggregator (train/aggregator.h: centered_clip, median,
// trimmed_mean, multi_krum, with bucketing in front when configured) and
// emits ONE step for the driver to apply:
//
//   ExpertRounds rounds(config);              // Create() validates
//   rounds.AddExpert(3, dim);                 // before its contributions
//   rounds.OnContribution(caller, 3, r, grad, now);   // per Backward
//   rounds.OnTick(now);                       // time passed
//   for (ExpertStep& s : rounds.TakeOutbox()) host.Apply(s.expert, s.gradient);
//
// When a round closes. A round of expert e opens with its first accepted
// contribution and closes when
//   - every caller expected for it contributed (expected: the callers used in
//     any of e's last `missed_rounds_max` closed rounds, and those whose
//     contribution to one of them came late; none known → only the deadline
//     closes it) and at least `quorum` are in, or
//   - `round_deadline` passed since it opened (a trainer that sent nothing is
//     not waited for longer), or
//   - a later round of e completes as above, or holds `quorum`
//     contributions (the majority moved on: older open rounds close first,
//     with what they have, instead of waiting for a straggler).
// A round past its deadline closes on its own: a bogus round far ahead never
// closes honest rounds early.
// A closing round with >= quorum contributions becomes one ExpertStep in the
// outbox; with fewer it is dropped (counted in rounds_dropped: a lone caller,
// honest or not, never moves an expert when quorum > 1). If the aggregator
// refuses the round (e.g. multi_krum with n < f + 3) the coordinate-wise
// median of the clipped contributions is used instead (counted:
// rounds_fallback_median).
//
// Refusals (InvalidArgument whose message starts with the reason, counted
// by reason; nothing refused is ever aggregated):
//   unknown_expert   AddExpert was not called for this expert
//   wrong_round      round 0, or beyond `rounds_ahead_max` past the last
//                    applied round of this expert
//   late             for a round of this expert that already closed
//   wrong_size       the vector's size is not the expert's dim
//   non_finite       a NaN or an Inf element
//   duplicate        a second contribution by one caller for one round
//                    (replayed calls land here)
//   too_many_rounds  the caller already has `open_rounds_per_caller_max` (8)
//                    contributions waiting in open rounds of this expert
//   too_many_callers the round already holds `callers_max` contributions
// A round far ahead cannot block honest rounds: rounds are closed (and
// applied) independently of a bogus future round, which only times out.
//
// The caller is an opaque key: the authenticated peer id's bytes once RPC
// authentication (node/call_guard.h) hands them over; until then the
// trainer's name. Admission is the driver's business: only admitted trainers'
// contributions should reach OnContribution.
//
// Thread-safety: none; one driver thread or a lock around every call.
// Nothing a caller sends makes it abort. Torch-free.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "train/aggregator.h"

namespace swarm::train {

enum class ExpertRefusal {
  kUnknownExpert, kWrongRound, kLate, kWrongSize, kNonFinite, kDuplicate, kTooManyRounds, kTooManyCallers
};
constexpr int kExpertRefusalKinds = 8;
const char* ExpertRefusalName(ExpertRefusal r);

struct ExpertRoundConfig {
  AggregatorSpec aggregator;           // the job's robust rule (f, bucketing)
  double clip_norm = 1.0;              // each contribution's L2 norm is clipped to this; 0 = off
  Nanos round_deadline = Millis(1000); // after a round's first contribution
  size_t quorum = 1;                   // contributions needed for a step
  uint64_t rounds_ahead_max = 64;      // past the last applied round (0 = no limit before the first)
  size_t open_rounds_per_caller_max = 8;
  size_t callers_max = 256;            // contributions per round
  int missed_rounds_max = 2;           // a caller absent this long is no longer waited for
  size_t dim_max = size_t{1} << 26;    // elements of one expert's parameters
  size_t experts_max = 4096;
  Status Validate() const;             // names the field and value
};

// One optimizer step for the driver to apply.
struct ExpertStep {
  uint32_t expert = 0;
  uint64_t round = 0;
  std::vector<float> gradient;       // the robust aggregate (dim elements)
  std::vector<std::string> used;     // callers aggregated, sorted
  AggregationReport report;
  int64_t clipped = 0;               // contributions whose norm was clipped
  bool fallback_median = false;
  bool closed_by_deadline = false;
};

struct ExpertRoundCounters {
  int64_t accepted = 0;
  int64_t refused[kExpertRefusalKinds] = {};
  int64_t steps = 0;              // ExpertSteps emitted
  int64_t rounds_dropped = 0;     // closed below quorum
  int64_t rounds_fallback_median = 0;
  int64_t clipped = 0;            // contributions clipped to clip_norm
};

class ExpertRounds {
 public:
  static StatusOr<std::unique_ptr<ExpertRounds>> Create(ExpertRoundConfig config);

  // Declares expert `expert` with parameter vectors of `dim` elements (again
  // with the same dim: no-op). InvalidArgument: dim 0 or > dim_max, a
  // different dim than before, experts_max reached.
  Status AddExpert(uint32_t expert, size_t dim);
  // Forgets an expert (e.g. the ring moved it away): its open rounds are dropped.
  void RemoveExpert(uint32_t expert);

  // OK when accepted; otherwise InvalidArgument starting with the refusal
  // name, e.g. "duplicate: caller 't1' already contributed to expert 3 round 7".
  Status OnContribution(const std::string& caller, uint32_t expert, uint64_t round,
                        std::vector<float> gradient, Nanos now);
  void OnTick(Nanos now);
  // Steps produced since the last call, in the order the rounds closed.
  std::vector<ExpertStep> TakeOutbox();

  // Earliest time a round may close by its deadline (for the driver's timer); 0 = none open.
  Nanos NextDeadline() const;
  const ExpertRoundCounters& counters() const { return counters_; }
  int64_t refused(ExpertRefusal r) const { return counters_.refused[static_cast<int>(r)]; }
  // Rounds of `expert` currently collecting.
  size_t open_rounds(uint32_t expert) const;
  // The last round applied for `expert` (0 = none).
  uint64_t last_applied(uint32_t expert) const;
  const ExpertRoundConfig& config() const { return config_; }

 private:
  struct Round {
    Nanos opened_at = 0;
    std::map<std::string, std::vector<float>> in;  // caller -> clipped gradient
    int64_t clipped = 0;
  };
  struct Expert {
    size_t dim = 0;
    std::unique_ptr<Aggregator> aggregator;
    std::map<uint64_t, Round> open;           // round -> collecting
    std::set<uint64_t> closed;                // closed rounds > last_applied (dropped ones)
    uint64_t last_applied = 0;
    std::vector<std::set<std::string>> recent;  // used sets of the last closed rounds
  };

  explicit ExpertRounds(ExpertRoundConfig c) : config_(std::move(c)) {}
  Status Refuse(ExpertRefusal r, const std::string& detail);
  bool Complete(const Expert& e, const Round& r) const;
  void CloseThrough(uint32_t id, Expert& e, uint64_t round, bool by_deadline);
  void Close(uint32_t id, Expert& e, uint64_t round, Round r, bool by_deadline);

  ExpertRoundConfig config_;
  std::map<uint32_t, Expert> experts_;
  std::vector<ExpertStep> outbox_;
  ExpertRoundCounters counters_;
};

}  // namespace swarm::train
