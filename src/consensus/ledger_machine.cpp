#include "consensus/ledger_machine.h"

#include <filesystem>

#include <spdlog/spdlog.h>

#include "common/bytes.h"
#include "common/file.h"
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

Status CheckLedgerScheme(const LedgerSchemePolicy& policy, std::string_view scheme) {
  if (scheme == "ml-dsa-65" || scheme == "ml-dsa-87") return absl::OkStatus();
  if (scheme == "hybrid" && policy.allow_hybrid) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "signature scheme '", std::string(scheme), "' is not allowed on this ledger (consensus.ledger_signatures = ",
      policy.allow_hybrid ? "ml-dsa,hybrid" : "ml-dsa", ": records are signed with ML-DSA",
      policy.allow_hybrid ? " or hybrid" : "", ", never Ed25519 alone)"));
}

StatusOr<std::unique_ptr<LedgerStateMachine>> LedgerStateMachine::Open(const std::string& path,
                                                                      LedgerSchemePolicy policy) {
  std::unique_ptr<LedgerStateMachine> sm(new LedgerStateMachine());
  sm->policy_ = policy;
  if (!path.empty()) {
    SWARM_ASSIGN_OR_RETURN(sm->ledger_, store::Ledger::Open(path));
    SWARM_ASSIGN_OR_RETURN(store::LedgerHead h, sm->ledger_->Head());
    sm->disk_size_ = h.size;
    sm->epoch_dir_ = EpochDir(path);
    std::error_code ec;
    std::filesystem::create_directories(sm->epoch_dir_, ec);
    if (ec) return absl::PermissionDeniedError(absl::StrCat("cannot create ", sm->epoch_dir_, ": ", ec.message()));
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

std::string LedgerStateMachine::EpochDir(const std::string& ledger_path) {
  if (ledger_path.empty()) return "";
  return (std::filesystem::path(ledger_path).parent_path() / "epochs").string();
}

EpochState LedgerStateMachine::Epoch(EpochKind kind) const {
  std::lock_guard<std::mutex> lock(head_mu_);
  return epochs_[static_cast<size_t>(kind)];
}

std::optional<Bytes> LedgerStateMachine::EpochBody(const Digest256& root) const {
  std::lock_guard<std::mutex> lock(head_mu_);
  auto it = bodies_.find(root);
  if (it == bodies_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::pair<Bytes, Bytes>> LedgerStateMachine::Records(uint64_t from, uint64_t count) const {
  std::vector<std::pair<Bytes, Bytes>> out;
  std::lock_guard<std::mutex> lock(head_mu_);
  for (uint64_t i = from; i < records_.size() && i - from < count; ++i) {
    Bytes body;
    auto r = store::ParseLedgerRecord(records_[i]);
    if (r.ok()) {
      if (auto it = bodies_.find(r->payload_root); it != bodies_.end() && IsEpochRecordKind(r->kind)) body = it->second;
    }
    out.emplace_back(records_[i], std::move(body));
  }
  return out;
}

// Best effort (the replicated copy is the in-memory one and the snapshot).
void LedgerStateMachine::SaveBody(const Digest256& root, const Bytes& body) {
  if (epoch_dir_.empty()) return;
  const std::string path = epoch_dir_ + "/" + ToHex(root) + ".body";
  if (std::filesystem::exists(path)) return;
  const Status s = WriteFileAtomic(path, ByteSpan(body), {.mode = 0644});
  if (!s.ok()) spdlog::warn("consensus: cannot save epoch body: {}", s.ToString());
}

std::optional<Digest256> LedgerStateMachine::RecordHash(uint64_t index) const {
  std::lock_guard<std::mutex> lock(head_mu_);
  if (index >= hashes_.size()) return std::nullopt;
  return hashes_[index];
}

// Appends `r` (already checked, r.index == records_.size()) to memory and,
// unless the disk already holds it, to disk.
Status LedgerStateMachine::AppendChecked(const store::LedgerRecord& r, const Bytes& encoded, const Bytes& body) {
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
  if (!body.empty()) SaveBody(r.payload_root, body);
  const Digest256 h = store::LedgerRecordHash(r);
  std::lock_guard<std::mutex> lock(head_mu_);
  records_.push_back(encoded);
  hashes_.push_back(h);
  head_ = store::LedgerHead{records_.size(), h};
  if (auto kind = EpochKindOf(r.kind)) {
    epochs_[static_cast<size_t>(*kind)] = EpochState{r.epoch, r.payload_root, r.index};
    bodies_.emplace(r.payload_root, body);
  }
  return absl::OkStatus();
}

void LedgerStateMachine::Apply(consensus::SeqNumber seq, const consensus::Request& request) {
  LedgerApplyResult res;
  res.seq = seq;
  auto parts = ParseLedgerRequest(request.payload);
  StatusOr<store::LedgerRecord> rec =
      parts.ok() ? store::ParseLedgerRecord(parts->record) : StatusOr<store::LedgerRecord>(parts.status());
  Status epoch_check = absl::OkStatus();
  if (rec.ok() && (IsEpochRecordKind(rec->kind) || !parts->body.empty())) {
    epoch_check = IsEpochRecordKind(rec->kind)
                      ? CheckEpochRecord(epochs_[static_cast<size_t>(EpochKindOf(rec->kind).value_or(EpochKind::kMembership))],
                                         *rec, parts->body, rules_)
                      : absl::InvalidArgumentError(absl::StrCat("bad record: a body on a record of kind '", rec->kind,
                                                                "' (only epoch.* records carry one)"));
  }
  if (!rec.ok()) {
    res.error = absl::StrCat("bad record: ", rec.status().message());
  } else if (!epoch_check.ok()) {
    res.error = std::string(epoch_check.message());
  } else if (rec->index != records_.size() ||
             rec->prev_hash != (hashes_.empty() ? Digest256{} : hashes_.back())) {
    res.error = absl::StrCat("stale head: record index ", rec->index, " but ledger size ",
                             records_.size(), " (re-sign on the current head)");
  } else if (records_.size() >= kRecordsMax) {
    res.error = absl::StrCat("ledger full: ", kRecordsMax, " records (kRecordsMax)");
  } else if (auto sp = CheckLedgerScheme(policy_, rec->signature_scheme); !sp.ok()) {
    res.error = absl::StrCat("bad record: ", sp.message());
  } else if (auto s = CheckRecord(*rec); !s.ok()) {
    res.error = absl::StrCat("bad record: ", s.message());
  } else if (auto s2 = AppendChecked(*rec, parts->record, parts->body); !s2.ok()) {
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
  std::lock_guard<std::mutex> lock(head_mu_);
  PutU64(out, bodies_.size());
  for (const auto& [root, body] : bodies_) {
    out.insert(out.end(), root.begin(), root.end());
    PutU32(out, static_cast<uint32_t>(body.size()));
    out.insert(out.end(), body.begin(), body.end());
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
  std::map<Digest256, Bytes> bodies;
  if (pos != snapshot.size()) {  // the epoch bodies section
    uint64_t nb = 0;
    if (!GetU64(snapshot, pos, nb) || nb > count) {
      return absl::InvalidArgumentError(absl::StrCat("ledger snapshot: bad epoch body count ", nb));
    }
    for (uint64_t i = 0; i < nb; ++i) {
      Digest256 root{};
      uint32_t len = 0;
      if (snapshot.size() - pos < root.size()) {
        return absl::InvalidArgumentError(absl::StrCat("ledger snapshot: epoch body ", i, " truncated"));
      }
      std::copy(snapshot.begin() + pos, snapshot.begin() + pos + root.size(), root.begin());
      pos += root.size();
      if (!GetU32(snapshot, pos, len) || len > kEpochBodyBytesMax || snapshot.size() - pos < len) {
        return absl::InvalidArgumentError(absl::StrCat("ledger snapshot: epoch body ", i, " truncated"));
      }
      Bytes body(snapshot.begin() + pos, snapshot.begin() + pos + len);
      pos += len;
      if (EpochRoot(body) != root) {
        return absl::InvalidArgumentError(absl::StrCat("ledger snapshot: epoch body ", i, " does not hash to its root"));
      }
      bodies.emplace(root, std::move(body));
    }
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
  for (const auto& [root, body] : bodies) SaveBody(root, body);
  std::lock_guard<std::mutex> lock(head_mu_);
  records_ = std::move(records);
  bodies_ = std::move(bodies);
  epochs_ = {};
  hashes_.clear();
  for (const auto& r : parsed) {
    hashes_.push_back(store::LedgerRecordHash(r));
    if (auto kind = EpochKindOf(r.kind)) epochs_[static_cast<size_t>(*kind)] = EpochState{r.epoch, r.payload_root, r.index};
  }
  head_ = store::LedgerHead{records_.size(), hashes_.empty() ? Digest256{} : hashes_.back()};
  return absl::OkStatus();
}

}  // namespace swarm::node
