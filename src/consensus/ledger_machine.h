// The ledger as the PBFT committee's replicated state machine.
//
// A request's payload is one signed ledger record (store::EncodeLedgerRecord)
// that its author made on top of the head it saw: index = ledger size and
// prev_hash = head hash. Apply appends it iff it still fits the head and its
// author id, fields and signature check (store::Ledger::AppendRecord), and
// otherwise records a deterministic refusal ("stale head: ...", "bad record:
// ..."), so every honest replica ends with the same chain. The client re-signs
// on the new head and retries (optimistic concurrency, no shared signing key).
//
// Snapshot = u64 record count then, per record, u32 length and the canonical
// record bytes: the whole chain (O(records); kept in memory so a checkpoint
// needs no disk reads). Restore accepts a snapshot whose records extend the
// chain already on disk (an honest replica's disk is always a prefix of any
// certified state; anything else is FailedPrecondition, never overwritten).
// After a crash the disk may hold records past the restored checkpoint: Apply
// then finds the record already there and only checks it is the same.
//
// Epoch records (consensus/epoch.h): a request may carry a body beside
// its record (the member list / placement table); Apply checks it with
// CheckEpochRecord against the last committed epoch of that kind, keeps the
// body in memory (and in the snapshot, after the records: u64 count, then
// per body 32-byte root, u32 length, bytes, ascending by root) and writes it
// to <ledger dir>/epochs/<root hex>.body for offline `swarm ledger show`.
// Snapshots without the body section (older format) restore with no bodies.
//
// Results of the last `results_max` requests are kept for the driver to
// answer clients (Result()).
// Thread-safety: used by the replica's thread only, except Head(), Epoch(),
// EpochBody(), Records() and RecordHash() which any thread may call
// (internal mutex).
#pragma once

#include <array>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "consensus/state_machine.h"
#include "consensus/epoch.h"
#include "store/ledger.h"

namespace swarm::node {

using store::Digest256;

// Which signature schemes may author ledger records. The ledger is meant to be
// post-quantum: ML-DSA ("ml-dsa-65", "ml-dsa-87") always; "hybrid" (Ed25519
// AND ML-DSA-65) when allow_hybrid; "ed25519" alone never. Every committee
// member must run the same policy (consensus.ledger_signatures): Apply
// refuses deterministically.
struct LedgerSchemePolicy {
  bool allow_hybrid = false;
};
// OK, or InvalidArgument "signature scheme 'ed25519' is not allowed on this
// ledger (consensus.ledger_signatures = ml-dsa: ...)".
Status CheckLedgerScheme(const LedgerSchemePolicy& policy, std::string_view scheme);

struct LedgerApplyResult {
  bool applied = false;
  std::string error;  // why not applied
  consensus::SeqNumber seq = 0;
  uint64_t index = 0;
  Digest256 record_hash{};
  uint64_t ledger_size = 0;
  Digest256 head_hash{};
};

class LedgerStateMachine final : public consensus::StateMachine {
 public:
  static constexpr size_t kResultsMax = 65536;
  static constexpr uint64_t kRecordsMax = 1u << 20;  // snapshot bound

  // Opens (creates) the SQLite ledger at `path`; "" = an in-memory chain
  // only (benchmarks, tests).
  static StatusOr<std::unique_ptr<LedgerStateMachine>> Open(const std::string& path,
                                                            LedgerSchemePolicy policy = {});

  void Apply(consensus::SeqNumber seq, const consensus::Request& request) override;
  Bytes Snapshot() override;
  Status Restore(ByteSpan snapshot) override;

  std::optional<LedgerApplyResult> Result(uint64_t client, uint64_t client_seq) const;
  store::LedgerHead Head() const;
  // The record hash at `index` of the applied chain, if present.
  std::optional<Digest256> RecordHash(uint64_t index) const;
  // The last committed epoch of `kind` (version 0: none).
  EpochState Epoch(EpochKind kind) const;
  // The body committed under `root`, if any.
  std::optional<Bytes> EpochBody(const Digest256& root) const;
  // Records [from, from+count) of the applied chain with their bodies
  // (empty when none), canonical bytes.
  std::vector<std::pair<Bytes, Bytes>> Records(uint64_t from, uint64_t count) const;
  // Where bodies are written next to the ledger file ("" = memory only).
  static std::string EpochDir(const std::string& ledger_path);

  // Apply calls whose record was already on disk and identical / different.
  uint64_t replayed_from_disk() const { return replayed_; }
  uint64_t disk_conflicts() const { return conflicts_; }

  // Who may author which epoch records (consensus/epoch.h EpochRules: the
  // swarm's grant issuers for epoch.admission). Before the replica starts;
  // every member must be given the same rules.
  void SetEpochRules(EpochRules rules) { rules_ = std::move(rules); }

  // Client key of a record's author: the first 8 bytes of its author id.
  static uint64_t ClientOf(const store::LedgerRecord& r);

 private:
  LedgerSchemePolicy policy_;
  EpochRules rules_;
  LedgerStateMachine() = default;
  Status AppendChecked(const store::LedgerRecord& r, const Bytes& encoded, const Bytes& body);
  void SaveBody(const Digest256& root, const Bytes& body);
  void Remember(uint64_t client, uint64_t client_seq, LedgerApplyResult r);

  std::unique_ptr<store::Ledger> ledger_;  // null: memory only
  std::string epoch_dir_;                  // "" = bodies in memory only
  uint64_t disk_size_ = 0;                 // records on disk
  std::vector<Bytes> records_;             // applied chain, canonical bytes
  std::vector<Digest256> hashes_;
  mutable std::mutex head_mu_;
  store::LedgerHead head_;
  std::array<EpochState, kEpochKinds> epochs_{};
  std::map<Digest256, Bytes> bodies_;  // epoch bodies by payload root
  std::map<std::pair<uint64_t, uint64_t>, LedgerApplyResult> results_;
  std::deque<std::pair<uint64_t, uint64_t>> results_order_;
  uint64_t replayed_ = 0;
  uint64_t conflicts_ = 0;
};

}  // namespace swarm::node
