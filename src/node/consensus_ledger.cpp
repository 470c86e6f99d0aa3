#include "node/consensus_ledger.h"

#include <spdlog/spdlog.h>

#include "common/bytes.h"
#include "store/signers.h"

namespace swarm::node {
namespace {

void PutU64(Bytes& b, uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void PutU32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
bool GetU64(ByteSpan d, size_t& pos, uint64_t& v) {
  if (d.size() - pos < 8) return false;
  v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(d[pos + i]) << (8 * i);
  pos += 8;
  return true;
}
bool GetU32(ByteSpan d, size_t& pos, uint32_t& v) {
  if (d.size() - pos < 4) return false;
  v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(d[pos + i]) << (8 * i);
  pos += 4;
  return true;
}

// Everything Ledger::AppendRecord checks except the head, without a database.
Status CheckRecord(const store::LedgerRecord& r) {
  SWARM_RETURN_IF_ERROR(store::ValidateLedgerFields(r));
  if (store::LedgerAuthorId(r.signature_scheme, r.public_key) != r.author_id) {
    return absl::InvalidArgumentError("author_id is not the peer id of the record's public key");
  }
  static const store::SignatureVerifier verify = store::DefaultSignatureVerifier();
  return verify(r.signature_scheme, r.public_key, store::LedgerSigningBytes(r), r.signature);
}

}  // namespace

StatusOr<std::unique_ptr<LedgerStateMachine>> LedgerStateMachine::Open(const std::string& path) {
  std::unique_ptr<LedgerStateMachine> sm(new LedgerStateMachine());
  if (!path.empty()) {
    SWARM_ASSIGN_OR_RETURN(sm->ledger_, store::Ledger::Open(path));
    SWARM_ASSIGN_OR_RETURN(store::LedgerHead h, sm->ledger_->Head());
    sm->disk_size_ = h.size;
  }
  return sm;
}

uint64_t LedgerStateMachine::ClientOf(const store::LedgerRecord& r) {
  uint64_t c = 0;
  for (int i = 0; i < 8; ++i) c |= static_cast<uint64_t>(r.author_id[i]) << (8 * i);
  return c;
}

void LedgerStateMachine::Remember(uint64_t client, uint64_t client_seq, LedgerApplyResult r) {
  std::lock_guard<std::mutex> lock(head_mu_);
  const auto key = std::make_pair(client, client_seq);
  if (results_.emplace(key, std::move(r)).second) results_order_.push_back(key);
  while (results_order_.size() > kResultsMax) {
    results_.erase(results_order_.front());
    results_order_.pop_front();
  }
}

std::optional<LedgerApplyResult> LedgerStateMachine::Result(uint64_t client, uint64_t client_seq) const {
  std::lock_guard<std::mutex> lock(head_mu_);
  auto it = results_.find({client, client_seq});
  if (it == results_.end()) return std::nullopt;
  return it->second;
}

store::LedgerHead LedgerStateMachine::Head() const {
  std::lock_guard<std::mutex> lock(head_mu_);
  return head_;
}

std::optional<Digest256> LedgerStateMachine::RecordHash(uint64_t index) const {
  std::lock_guard<std::mutex> lock(head_mu_);
  if (index >= hashes_.size()) return std::nullopt;
  return hashes_[index];
}

// Appends `r` (already checked, r.index == records_.size()) to memory and,
// unless the disk already holds it, to disk.
Status LedgerStateMachine::AppendChecked(const store::LedgerRecord& r, const Bytes& encoded) {
  if (ledger_) {
    if (r.index < disk_size_) {
      auto on_disk = ledger_->GetEncoded(r.index);
      if (on_disk.ok() && *on_disk == encoded) {
        ++replayed_;
      } else {
        ++conflicts_;
        spdlog::error("consensus: ledger record {} on disk differs from the committed one", r.index);
      }
    } else {
      SWARM_RETURN_IF_ERROR(ledger_->AppendRecord(r));
      disk_size_ = r.index + 1;
    }
  }
  const Digest256 h = store::LedgerRecordHash(r);
  records_.push_back(encoded);
  std::lock_guard<std::mutex> lock(head_mu_);
  hashes_.push_back(h);
  head_ = store::LedgerHead{records_.size(), h};
  return absl::OkStatus();
}

void LedgerStateMachine::Apply(consensus::SeqNumber seq, const consensus::Request& request) {
  LedgerApplyResult res;
  res.seq = seq;
  auto rec = store::ParseLedgerRecord(request.payload);
  if (!rec.ok()) {
    res.error = absl::StrCat("bad record: ", rec.status().message());
  } else if (rec->index != records_.size() ||
             rec->prev_hash != (hashes_.empty() ? Digest256{} : hashes_.back())) {
    res.error = absl::StrCat("stale head: record index ", rec->index, " but ledger size ",
                             records_.size(), " (re-sign on the current head)");
  } else if (records_.size() >= kRecordsMax) {
    res.error = absl::StrCat("ledger full: ", kRecordsMax, " records (kRecordsMax)");
  } else if (auto s = CheckRecord(*rec); !s.ok()) {
    res.error = absl::StrCat("bad record: ", s.message());
  } else if (auto s2 = AppendChecked(*rec, request.payload); !s2.ok()) {
    // A local disk failure: the in-memory chain (the replicated state) is
    // unchanged, so this replica's checkpoint digest will differ from the
    // quorum's and state transfer repairs it.
    spdlog::error("consensus: cannot append ledger record {}: {}", rec->index, std::string(s2.message()));
    res.error = absl::StrCat("local storage error: ", s2.message());
  } else {
    res.applied = true;
    res.index = rec->index;
    res.record_hash = hashes_.back();
  }
  const store::LedgerHead h = Head();
  res.ledger_size = h.size;
  res.head_hash = h.hash;
  Remember(request.client, request.client_seq, std::move(res));
}

Bytes LedgerStateMachine::Snapshot() {
  Bytes out;
  size_t total = 8;
  for (const auto& r : records_) total += 4 + r.size();
  out.reserve(total);
  PutU64(out, records_.size());
  for (const auto& r : records_) {
    PutU32(out, static_cast<uint32_t>(r.size()));
    out.insert(out.end(), r.begin(), r.end());
  }
  return out;
}

Status LedgerStateMachine::Restore(ByteSpan snapshot) {
  size_t pos = 0;
  uint64_t count = 0;
  if (!GetU64(snapshot, pos, count) || count > kRecordsMax) {
    return absl::InvalidArgumentError(absl::StrCat("ledger snapshot: bad record count ", count));
  }
  std::vector<Bytes> records;
  std::vector<store::LedgerRecord> parsed;
  Digest256 prev{};
  for (uint64_t i = 0; i < count; ++i) {
    uint32_t len = 0;
    if (!GetU32(snapshot, pos, len) || snapshot.size() - pos < len) {
      return absl::InvalidArgumentError(absl::StrCat("ledger snapshot: record ", i, " truncated"));
    }
    Bytes b(snapshot.begin() + pos, snapshot.begin() + pos + len);
    pos += len;
    SWARM_ASSIGN_OR_RETURN(store::LedgerRecord r, store::ParseLedgerRecord(b));
    if (r.index != i || r.prev_hash != prev) {
      return absl::InvalidArgumentError(absl::StrCat("ledger snapshot: record ", i, " breaks the chain"));
    }
    prev = store::LedgerRecordHash(r);
    records.push_back(std::move(b));
    parsed.push_back(std::move(r));
  }
  if (pos != snapshot.size()) {
    return absl::InvalidArgumentError(absl::StrCat("ledger snapshot: ", snapshot.size() - pos,
                                                   " trailing bytes"));
  }
  if (ledger_) {
    for (uint64_t i = 0; i < std::min<uint64_t>(disk_size_, count); ++i) {
      SWARM_ASSIGN_OR_RETURN(Bytes on_disk, ledger_->GetEncoded(i));
      if (on_disk != records[i]) {
        return absl::FailedPreconditionError(absl::StrCat(
            "ledger snapshot: record ", i, " differs from ", ledger_->path(), " (refusing to overwrite)"));
      }
    }
    for (uint64_t i = disk_size_; i < count; ++i) {
      SWARM_RETURN_IF_ERROR(ledger_->AppendRecord(parsed[i]));
      disk_size_ = i + 1;
    }
  }
  records_ = std::move(records);
  std::lock_guard<std::mutex> lock(head_mu_);
  hashes_.clear();
  for (const auto& r : parsed) hashes_.push_back(store::LedgerRecordHash(r));
  head_ = store::LedgerHead{records_.size(), hashes_.empty() ? Digest256{} : hashes_.back()};
  return absl::OkStatus();
}

}  // namespace swarm::node
