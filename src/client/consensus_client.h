// The client side of the PBFT-replicated ledger: sign a record on a
// committee member's head, submit it by Pbft.Submit, retry and fail over.
// Used by `swarm ledger append --peer` (cli/cmd_ledger.cpp), by committee
// members proposing epoch records (SignLedgerRecord) and by trainers that
// require committed round roots (trainer.require_committed_root,
// CommitRoundRoot).
//
// AppendToCommittee: read a member's head (Pbft.LedgerHead), sign a record on
// top of it (index = size, prev_hash = head), submit it through that member
// (a backup relays it to the primary). "stale head" (another append won the
// race) → re-sign on the new head and retry; a member that does not answer
// or times out → the next member (the committee learned from the first
// answer is appended to the list). Returns once a member reports the record
// executed and applied (i.e. committed by PBFT and appended to its ledger).
// ConfirmRecord then waits until f+1 members (at least one honest) report the
// same record hash at that index.
//
// Errors: InvalidArgument for a bad spec (kind, lengths); FailedPrecondition
// when a member answers that it is not in the committee or the record was
// ordered but refused for another reason than a stale head (e.g. "epoch:
// ..."); Cancelled when options.cancelled() turns true; DeadlineExceeded
// when nothing committed within options.timeout, naming the members tried
// and the last error.
// Thread-safety: free functions; options.channel_to must be thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/status.h"
#include "crypto/identity.h"
#include "store/ledger_record.h"
#include "swarm/v1/consensus.grpc.pb.h"

namespace swarm::node {

// A record by `id` of (kind, epoch, payload_root) on (index, prev).
StatusOr<store::LedgerRecord> SignLedgerRecord(const crypto::Identity& id, const std::string& kind, uint64_t epoch,
                                               const store::Digest256& payload_root, uint64_t index,
                                               const store::Digest256& prev);
// Process-unique, increasing client sequence numbers (at-most-once key with
// the author), seeded from wall-clock microseconds so a restart does not
// reuse earlier ones.
uint64_t NextClientSeq();

struct CommitteeClientOptions {
  std::vector<std::string> members;  // gRPC addresses, tried in order
  Nanos timeout = Seconds(30);       // overall
  Nanos call_deadline_max = Seconds(12);
  // null: a plain insecure channel with 64 MiB receive size.
  std::function<std::shared_ptr<grpc::Channel>(const std::string&)> channel_to;
  std::function<bool()> cancelled;  // optional
};

struct LedgerAppendSpec {
  std::string kind;
  uint64_t epoch = 0;
  store::Digest256 payload_root{};
  Bytes body;  // epoch.* records only
  // Optional: when another append wins the race ("stale head"), the records
  // appended since the head this client signed on are read back and, if one
  // satisfies this predicate, it counts as the result (no own record).
  std::function<bool(const store::LedgerRecord&)> satisfied_by;
};

struct LedgerAppendResult {
  swarm::v1::LedgerSubmitReply reply;  // applied == true
  std::string via;                     // the member that executed it
  std::vector<std::string> committee;  // as that member reported it
  int attempts = 0;
  bool existing = false;  // satisfied by another author's record (spec.satisfied_by)
};

StatusOr<LedgerAppendResult> AppendToCommittee(const crypto::Identity& id, const LedgerAppendSpec& spec,
                                               const CommitteeClientOptions& options);

// trainer.require_committed_root: the result root of averaging round
// `round` = SHA3-256(u64 BE round || the aggregate's float32 values, little
// endian), recorded as kind kRoundRecordKind with epoch = round.
inline constexpr char kRoundRecordKind[] = "train.round";
store::Digest256 RoundResultRoot(uint64_t round, std::span<const float> aggregate);
// Signs and commits that record through `options.members` (AppendToCommittee)
// and returns once a member reports it applied — or once the committed
// ledger holds another trainer's train.round record with the same round and
// root (that root is committed; trainers that agree add one record per round
// instead of n racing ones). Errors as AppendToCommittee; DeadlineExceeded
// names the committee.
StatusOr<LedgerAppendResult> CommitRoundRoot(const crypto::Identity& id, uint64_t round,
                                             std::span<const float> aggregate, const CommitteeClientOptions& options);

// Waits until f+1 of result.committee report result's record hash at its
// index (DeadlineExceeded with what each member said otherwise). Returns the
// members that agreed.
StatusOr<std::set<std::string>> ConfirmRecord(const LedgerAppendResult& result,
                                              const CommitteeClientOptions& options);

}  // namespace swarm::node
