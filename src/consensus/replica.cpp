// Replica: construction, dispatch, ticks, and the normal case
// (request -> pre-prepare -> prepare -> commit -> execute).
#include "consensus/replica.h"

#include <algorithm>

#include "consensus/canonical.h"

namespace swarm::consensus {

const char* DropReasonName(DropReason r) {
  switch (r) {
    case DropReason::kBadSignature: return "bad_signature";
    case DropReason::kUnknownSigner: return "unknown_signer";
    case DropReason::kMalformed: return "malformed";
    case DropReason::kOutsideWatermarks: return "outside_watermarks";
    case DropReason::kWrongView: return "wrong_view";
    case DropReason::kNotPrimary: return "not_primary";
    case DropReason::kEquivocation: return "equivocation";
    case DropReason::kInvalidCertificate: return "invalid_certificate";
    case DropReason::kDuplicate: return "duplicate";
    case DropReason::kOverloaded: return "overloaded";
    case DropReason::kCount: break;
  }
  return "unknown";
}

uint64_t ReplicaCounters::dropped_total() const {
  uint64_t t = 0;
  for (uint64_t d : dropped) t += d;
  return t;
}

Status ReplicaConfig::Validate() const {
  auto bad = [](const char* key, auto value, const char* want) {
    return absl::InvalidArgumentError(absl::StrCat("consensus.", key, " = ", value, ": ", want));
  };
  if (n < 4 || (n - 1) % 3 != 0) return bad("n", n, "must be 3f+1 with f >= 1 (4, 7, 10, ...)");
  if (self.value() >= n) return bad("self", self.value(), "must be < n");
  if (checkpoint_interval < 1 || checkpoint_interval > 1'000'000)
    return bad("checkpoint_interval", checkpoint_interval, "must be in [1, 1000000]");
  if (log_window < 2 * checkpoint_interval || log_window % checkpoint_interval != 0 || log_window > 1'000'000)
    return bad("log_window", log_window, "must be a multiple of checkpoint_interval, >= 2x it, <= 1000000");
  if (batch_requests_max < 1 || batch_requests_max > 65536)
    return bad("batch_requests_max", batch_requests_max, "must be in [1, 65536]");
  if (request_payload_bytes_max < 1 || request_payload_bytes_max > batch_bytes_max)
    return bad("request_payload_bytes_max", request_payload_bytes_max, "must be in [1, batch_bytes_max]");
  if (batch_bytes_max > (64u << 20)) return bad("batch_bytes_max", batch_bytes_max, "must be <= 64 MiB");
  if (pending_requests_max < 1) return bad("pending_requests_max", pending_requests_max, "must be >= 1");
  if (batch_delay < 0) return bad("batch_delay", batch_delay, "must be >= 0");
  if (request_timeout <= 0) return bad("request_timeout", request_timeout, "must be > 0");
  if (view_change_timeout <= 0) return bad("view_change_timeout", view_change_timeout, "must be > 0");
  if (backoff_exponent_max > 16) return bad("backoff_exponent_max", backoff_exponent_max, "must be <= 16");
  if (resend_interval <= 0) return bad("resend_interval", resend_interval, "must be > 0");
  if (status_interval <= 0) return bad("status_interval", status_interval, "must be > 0");
  if (fetch_entries_max < 1) return bad("fetch_entries_max", fetch_entries_max, "must be >= 1");
  if (checkpoint_lookahead < 1 || checkpoint_lookahead > 64)
    return bad("checkpoint_lookahead", checkpoint_lookahead, "must be in [1, 64]");
  return absl::OkStatus();
}

Replica::Replica(const ReplicaConfig& config, Authenticator* auth, StateMachine* sm)
    : cfg_(config), auth_(auth), sm_(sm) {}

StatusOr<std::unique_ptr<Replica>> Replica::Create(const ReplicaConfig& config, Authenticator* auth,
                                                   StateMachine* state_machine,
                                                   std::optional<DurableState> recovered) {
  SWARM_RETURN_IF_ERROR(config.Validate());
  if (auth == nullptr || state_machine == nullptr) {
    return absl::InvalidArgumentError("consensus: authenticator and state machine are required");
  }
  std::unique_ptr<Replica> r(new Replica(config, auth, state_machine));
  if (recovered) {
    r->d_ = std::move(*recovered);
    // Without the checkpoint's state (it was being fetched at the crash) the
    // replica starts from genesis and state transfer fetches it again.
    if (r->d_.stable.seq > 0 && !r->d_.stable_state.empty()) {
      Bytes app;
      ClientTable table;
      SWARM_RETURN_IF_ERROR(DecodeState(r->d_.stable_state, app, table));
      SWARM_RETURN_IF_ERROR(state_machine->Restore(app));
      r->executed_ = std::move(table);
      r->last_executed_ = r->d_.stable.seq;
    }
    r->Execute();  // re-applies batches committed above the checkpoint
  }
  return r;
}

void Replica::Send(std::optional<ReplicaId> to, Message m) {
  ready_.must_persist = true;
  ready_.messages.push_back(Outgoing{to, std::move(m)});
}

Ready Replica::TakeOutbox() {
  Ready out = std::move(ready_);
  ready_ = Ready{};
  return out;
}

bool Replica::HasReady() const {
  return ready_.must_persist || !ready_.messages.empty() || !ready_.committed.empty() ||
         ready_.restored_to.has_value() || ready_.stable_checkpoint.has_value();
}

Nanos Replica::Backoff(Nanos base) const {
  return base << std::min(backoff_, cfg_.backoff_exponent_max);
}

bool Replica::ValidBatch(const PrePrepare& pp) const {
  if (pp.batch.size() > cfg_.batch_requests_max) return false;
  size_t bytes = 0;
  for (const auto& r : pp.batch) {
    if (r.payload.size() > cfg_.request_payload_bytes_max) return false;
    bytes += r.payload.size();
  }
  return bytes <= cfg_.batch_bytes_max && BatchDigest(pp.batch) == pp.digest;
}

Status Replica::Propose(Request request) {
  if (request.payload.size() > cfg_.request_payload_bytes_max) {
    return absl::InvalidArgumentError(absl::StrCat("request.payload: ", request.payload.size(),
                                                   " bytes exceeds request_payload_bytes_max ",
                                                   cfg_.request_payload_bytes_max));
  }
  const RequestKey key{request.client, request.client_seq};
  if (executed_.Contains(key.first, key.second) || pending_.count(key)) return absl::OkStatus();
  if (pending_.size() >= cfg_.pending_requests_max) {
    return absl::ResourceExhaustedError(absl::StrCat("consensus: ", pending_.size(),
                                                     " pending requests (pending_requests_max)"));
  }
  AddPending(request, /*local=*/true);
  Broadcast(SignBody(std::move(request)));
  MaybePropose(false);
  return absl::OkStatus();
}

bool Replica::AddPending(const Request& r, bool local) {
  (void)local;
  auto [it, inserted] = pending_.try_emplace(RequestKey{r.client, r.client_seq});
  if (!inserted) return false;
  it->second.request = r;
  it->second.arrived = now_;
  it->second.last_forwarded = now_;
  if (!request_deadline_ && !d_.in_view_change) request_deadline_ = now_ + Backoff(cfg_.request_timeout);
  return true;
}

void Replica::ResetRequestTimer() {
  if (pending_.empty() || d_.in_view_change) {
    request_deadline_.reset();
  } else {
    request_deadline_ = now_ + Backoff(cfg_.request_timeout);
  }
}

void Replica::OnMessage(ReplicaId from, const Message& message) {
  (void)from;  // the signature, not the transport, says who sent it
  ++counters_.messages_received;
  const ReplicaId signer = MessageSigner(message);
  if (signer.value() >= cfg_.n) return Drop(DropReason::kUnknownSigner);
  if (signer == cfg_.self) return Drop(DropReason::kDuplicate);  // own message echoed back
  std::visit(
      [this](const auto& m) {
        using T = std::decay_t<decltype(m.body)>;
        if constexpr (std::is_same_v<T, Request>) OnRequest(m);
        else if constexpr (std::is_same_v<T, PrePrepare>) OnPrePrepare(m);
        else if constexpr (std::is_same_v<T, Prepare>) OnPrepare(m);
        else if constexpr (std::is_same_v<T, Commit>) OnCommit(m);
        else if constexpr (std::is_same_v<T, Checkpoint>) OnCheckpoint(m);
        else if constexpr (std::is_same_v<T, ViewChange>) OnViewChange(m);
        else if constexpr (std::is_same_v<T, NewView>) OnNewView(m);
        else if constexpr (std::is_same_v<T, StatusReport>) OnStatus(m);
        else if constexpr (std::is_same_v<T, Fetch>) OnFetch(m);
        else if constexpr (std::is_same_v<T, FetchReply>) OnFetchReply(m);
      },
      message);
  MaybePropose(false);
}

void Replica::OnRequest(const Signed<Request>& m) {
  const Request& r = m.body;
  if (r.payload.size() > cfg_.request_payload_bytes_max) return Drop(DropReason::kMalformed);
  const RequestKey key{r.client, r.client_seq};
  if (executed_.Contains(key.first, key.second) || pending_.count(key)) return Drop(DropReason::kDuplicate);
  if (pending_.size() >= cfg_.pending_requests_max) return Drop(DropReason::kOverloaded);
  if (!VerifySig(m)) return Drop(DropReason::kBadSignature);
  AddPending(r, false);
}

void Replica::OnPrePrepare(const Signed<PrePrepare>& m) {
  const PrePrepare& pp = m.body;
  if (d_.in_view_change || pp.view != d_.view) return Drop(DropReason::kWrongView);
  if (m.signer != Primary(pp.view)) return Drop(DropReason::kNotPrimary);
  if (pp.seq <= Low() || pp.seq > High()) return Drop(DropReason::kOutsideWatermarks);
  auto it = d_.log.find(pp.seq);
  if (it != d_.log.end() && it->second.pre_prepare && it->second.pre_prepare->body.digest == pp.digest) {
    return Drop(DropReason::kDuplicate);
  }
  if (!ValidBatch(pp)) return Drop(DropReason::kMalformed);
  if (!VerifySig(m)) return Drop(DropReason::kBadSignature);
  if (it != d_.log.end() && it->second.pre_prepare) return Drop(DropReason::kEquivocation);
  AcceptPrePrepare(m);
}

bool Replica::AcceptPrePrepare(const Signed<PrePrepare>& m) {
  const PrePrepare& pp = m.body;
  DurableState::Slot& slot = d_.log[pp.seq];
  slot.pre_prepare = m;
  for (const auto& r : pp.batch) {
    auto p = pending_.find(RequestKey{r.client, r.client_seq});
    if (p != pending_.end()) p->second.in_flight = true;
  }
  if (!IsPrimary() && !slot.prepares.count(cfg_.self.value())) {
    auto prep = SignBody(Prepare{pp.view, pp.seq, pp.digest});
    slot.prepares[cfg_.self.value()] = prep;
    Broadcast(std::move(prep));
  }
  CheckSlot(pp.seq);
  return true;
}

void Replica::OnPrepare(const Signed<Prepare>& m) {
  const Prepare& p = m.body;
  if (d_.in_view_change || p.view != d_.view) return Drop(DropReason::kWrongView);
  if (p.seq <= Low() || p.seq > High()) return Drop(DropReason::kOutsideWatermarks);
  if (m.signer == Primary(p.view)) return Drop(DropReason::kMalformed);  // the primary does not prepare
  DurableState::Slot& slot = d_.log[p.seq];
  if (slot.prepares.count(m.signer.value())) return Drop(DropReason::kDuplicate);
  if (!VerifySig(m)) return Drop(DropReason::kBadSignature);
  slot.prepares[m.signer.value()] = m;
  CheckSlot(p.seq);
}

void Replica::OnCommit(const Signed<Commit>& m) {
  const Commit& c = m.body;
  if (d_.in_view_change || c.view != d_.view) return Drop(DropReason::kWrongView);
  if (c.seq <= Low() || c.seq > High()) return Drop(DropReason::kOutsideWatermarks);
  DurableState::Slot& slot = d_.log[c.seq];
  if (slot.commits.count(m.signer.value())) return Drop(DropReason::kDuplicate);
  if (!VerifySig(m)) return Drop(DropReason::kBadSignature);
  slot.commits[m.signer.value()] = m;
  CheckSlot(c.seq);
}

void Replica::CheckSlot(SeqNumber seq) {
  auto it = d_.log.find(seq);
  if (it == d_.log.end() || !it->second.pre_prepare) return;
  DurableState::Slot& slot = it->second;
  const PrePrepare& pp = slot.pre_prepare->body;
  std::vector<Signed<Prepare>> prepares;
  for (const auto& [who, p] : slot.prepares) {
    if (p.body.digest == pp.digest && prepares.size() < 2 * cfg_.f()) prepares.push_back(p);
  }
  if (prepares.size() < 2 * cfg_.f()) return;
  if (!slot.prepared || slot.prepared->pre_prepare.body.view < pp.view) {
    slot.prepared = PreparedCert{*slot.pre_prepare, std::move(prepares)};
  }
  if (!slot.commits.count(cfg_.self.value())) {
    auto c = SignBody(Commit{pp.view, pp.seq, pp.digest});
    slot.commits[cfg_.self.value()] = c;
    Broadcast(std::move(c));
  }
  if (slot.committed) return;
  std::vector<Signed<Commit>> commits;
  for (const auto& [who, c] : slot.commits) {
    if (c.body.digest == pp.digest && commits.size() < cfg_.quorum()) commits.push_back(c);
  }
  if (commits.size() < cfg_.quorum()) return;
  slot.committed = CommitCert{*slot.pre_prepare, std::move(commits)};
  Execute();
}

void Replica::Execute() {
  bool progress = false;
  while (!StateMissing()) {
    auto it = d_.log.find(last_executed_ + 1);
    if (it == d_.log.end() || !it->second.committed) break;
    const PrePrepare& pp = it->second.committed->pre_prepare.body;
    CommittedEntry e{pp.seq, pp.view, pp.digest, pp.batch, {}};
    for (const auto& r : pp.batch) {
      const bool fresh = executed_.Insert(r.client, r.client_seq);
      if (fresh) {
        sm_->Apply(pp.seq, r);
        ++counters_.requests_executed;
      }
      e.applied.push_back(fresh);
      pending_.erase(RequestKey{r.client, r.client_seq});
    }
    last_executed_ = pp.seq;
    ++counters_.batches_committed;
    ready_.committed.push_back(std::move(e));
    progress = true;
    if (last_executed_ % cfg_.checkpoint_interval == 0) TakeCheckpoint();
  }
  if (progress) {
    if (!d_.in_view_change) backoff_ = 0;
    ResetRequestTimer();
  }
}

void Replica::MaybePropose(bool timer_fired) {
  (void)timer_fired;
  if (!IsPrimary() || d_.in_view_change || StateMissing()) return;
  d_.next_seq = std::max(d_.next_seq, Low());
  while (d_.next_seq + 1 <= High()) {
    std::vector<Pending*> ready;
    Nanos oldest = now_;
    for (auto& [key, p] : pending_) {
      if (p.in_flight) continue;
      ready.push_back(&p);
      oldest = std::min(oldest, p.arrived);
      if (ready.size() >= cfg_.batch_requests_max) break;
    }
    if (ready.empty()) return;
    if (ready.size() < cfg_.batch_requests_max && now_ - oldest < cfg_.batch_delay) return;
    PrePrepare pp;
    pp.view = d_.view;
    pp.seq = d_.next_seq + 1;
    size_t bytes = 0;
    for (Pending* p : ready) {
      if (bytes + p->request.payload.size() > cfg_.batch_bytes_max) break;
      bytes += p->request.payload.size();
      pp.batch.push_back(p->request);
    }
    pp.digest = BatchDigest(pp.batch);
    d_.next_seq = pp.seq;
    auto signed_pp = SignBody(std::move(pp));
    Broadcast(signed_pp);
    AcceptPrePrepare(signed_pp);
  }
}

void Replica::Resend() {
  if (d_.in_view_change) {
    auto vc = BuildViewChange();
    view_changes_[cfg_.self.value()] = vc;
    Broadcast(std::move(vc));
  } else {
    for (const auto& [seq, slot] : d_.log) {
      if (!slot.pre_prepare || slot.committed) continue;
      if (IsPrimary()) Broadcast(*slot.pre_prepare);
      auto p = slot.prepares.find(cfg_.self.value());
      if (p != slot.prepares.end()) Broadcast(p->second);
      auto c = slot.commits.find(cfg_.self.value());
      if (c != slot.commits.end()) Broadcast(c->second);
    }
    size_t forwarded = 0;
    for (auto& [key, p] : pending_) {
      if (p.in_flight || now_ - p.last_forwarded < cfg_.resend_interval || IsPrimary()) continue;
      if (++forwarded > 64) break;
      p.last_forwarded = now_;
      // Re-signed by this replica: it vouches for having received the request.
      Send(primary(), SignBody(p.request));
    }
  }
  // Our newest checkpoint vote, until it is stable.
  if (!d_.checkpoint_votes.empty()) {
    const auto& votes = d_.checkpoint_votes.rbegin()->second;
    auto own = votes.find(cfg_.self.value());
    if (own != votes.end()) Broadcast(own->second);
  }
}

void Replica::OnTick(Nanos now) {
  if (now < now_) now = now_;
  const bool first = next_status_ == 0 && next_resend_ == 0;
  now_ = now;
  if (first) {
    next_resend_ = now + cfg_.resend_interval;
    next_status_ = now + cfg_.status_interval;
    if (d_.in_view_change) view_change_deadline_ = now + Backoff(cfg_.view_change_timeout);
    ResetRequestTimer();
  }
  if (d_.in_view_change) {
    if (now >= view_change_deadline_) StartViewChange(d_.view + 1);
  } else if (request_deadline_ && now >= *request_deadline_ && !StateMissing()) {
    StartViewChange(d_.view + 1);
  }
  if (now >= next_resend_) {
    next_resend_ = now + cfg_.resend_interval;
    Resend();
  }
  if (now >= next_status_) {
    next_status_ = now + cfg_.status_interval;
    Broadcast(SignBody(StatusReport{d_.view, d_.in_view_change, last_executed_, Low()}));
    stalled_ = last_executed_ == executed_at_last_status_;
    executed_at_last_status_ = last_executed_;
  }
  MaybeFetch();
  MaybePropose(true);
}

}  // namespace swarm::consensus
