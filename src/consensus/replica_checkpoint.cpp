// Replica: checkpoints, watermarks and garbage collection, status reports and
// state transfer (fetch of a stable checkpoint's state and of committed
// batches with their commit certificates).
#include <algorithm>

#include "consensus/canonical.h"
#include "consensus/replica.h"

namespace swarm::consensus {

void Replica::TakeCheckpoint() {
  const SeqNumber seq = last_executed_;
  Bytes state = EncodeState(sm_->Snapshot(), executed_);
  const Digest digest = StateDigest(state);
  own_checkpoints_[seq] = {digest, std::move(state)};
  if (seq <= Low()) return;
  auto vote = SignBody(Checkpoint{seq, digest});
  d_.checkpoint_votes[seq][cfg_.self.value()] = vote;
  Broadcast(std::move(vote));
  CheckCheckpointQuorum(seq);
}

void Replica::OnCheckpoint(const Signed<Checkpoint>& m) {
  const Checkpoint& c = m.body;
  if (c.seq == 0 || c.seq % cfg_.checkpoint_interval != 0) return Drop(DropReason::kMalformed);
  if (c.seq <= Low() || c.seq > Low() + cfg_.checkpoint_lookahead * cfg_.log_window) {
    return Drop(DropReason::kOutsideWatermarks);
  }
  auto& votes = d_.checkpoint_votes[c.seq];
  if (votes.count(m.signer.value())) return Drop(DropReason::kDuplicate);
  if (!VerifySig(m)) return Drop(DropReason::kBadSignature);
  votes[m.signer.value()] = m;
  CheckCheckpointQuorum(c.seq);
}

void Replica::CheckCheckpointQuorum(SeqNumber seq) {
  auto it = d_.checkpoint_votes.find(seq);
  if (it == d_.checkpoint_votes.end() || seq <= Low()) return;
  std::map<Digest, std::vector<Signed<Checkpoint>>> by_digest;
  for (const auto& [who, v] : it->second) by_digest[v.body.state_digest].push_back(v);
  for (auto& [digest, votes] : by_digest) {
    if (votes.size() < cfg_.quorum()) continue;
    votes.resize(cfg_.quorum());
    AdoptStableCheckpoint(CheckpointCert{seq, digest, std::move(votes)}, nullptr);
    return;
  }
}

bool Replica::InstallState(const CheckpointCert& cert, const Bytes& state) {
  Bytes app;
  ClientTable table;
  if (!DecodeState(state, app, table).ok() || !sm_->Restore(app).ok()) {
    ++counters_.state_install_failures;  // 2f+1 vouched for it: a driver bug, not peer input
    return false;
  }
  executed_ = std::move(table);
  last_executed_ = cert.seq;
  diverged_ = false;
  d_.stable_state = state;
  own_checkpoints_.clear();
  ++counters_.state_transfers;
  ready_.restored_to = cert.seq;
  ready_.must_persist = true;
  for (auto it = pending_.begin(); it != pending_.end();) {
    it = executed_.Contains(it->first.first, it->first.second) ? pending_.erase(it) : std::next(it);
  }
  ResetRequestTimer();
  return true;
}

void Replica::AdoptStableCheckpoint(const CheckpointCert& cert, const Bytes* state) {
  if (cert.seq < Low()) return;
  if (cert.seq == Low()) {
    // Same checkpoint, but we may be missing its state.
    if (state != nullptr && StateMissing() && cert.digest == d_.stable.digest) {
      if (InstallState(cert, *state)) Execute();
    }
    return;
  }
  d_.stable = cert;
  ++counters_.checkpoints_stable;
  ready_.stable_checkpoint = cert.seq;
  ready_.must_persist = true;
  d_.stable_state.clear();
  auto own = own_checkpoints_.find(cert.seq);
  if (last_executed_ >= cert.seq) {
    if (own != own_checkpoints_.end() && own->second.first == cert.digest) {
      d_.stable_state = std::move(own->second.second);
    } else {
      diverged_ = true;
      ++counters_.state_divergences;
    }
  }
  // Garbage collection below the new low watermark.
  d_.log.erase(d_.log.begin(), d_.log.upper_bound(cert.seq));
  own_checkpoints_.erase(own_checkpoints_.begin(), own_checkpoints_.upper_bound(cert.seq));
  d_.checkpoint_votes.erase(d_.checkpoint_votes.begin(), d_.checkpoint_votes.upper_bound(cert.seq));
  if (StateMissing()) {
    if (state != nullptr && InstallState(cert, *state)) {
      Execute();
    } else {
      next_fetch_ = now_;  // fetch the state promptly
    }
  }
}

void Replica::OnStatus(const Signed<StatusReport>& m) {
  const StatusReport& st = m.body;
  if (!VerifySig(m)) return Drop(DropReason::kBadSignature);
  peer_status_[m.signer.value()] = st;
  if (!d_.in_view_change && (st.view < d_.view || (st.view == d_.view && st.in_view_change))) {
    ResendNewView(m.signer);
  }
}

void Replica::MaybeFetch() {
  if (now_ < next_fetch_) return;
  std::vector<uint32_t> candidates;
  if (StateMissing()) {
    for (const auto& v : d_.stable.votes) {
      if (v.signer != cfg_.self) candidates.push_back(v.signer.value());
    }
  } else if (stalled_) {
    for (const auto& [who, st] : peer_status_) {
      if (st.last_executed > last_executed_ || st.stable_seq > Low()) candidates.push_back(who);
    }
  }
  if (candidates.empty()) return;
  const uint32_t target = candidates[fetch_rotor_++ % candidates.size()];
  next_fetch_ = now_ + 2 * cfg_.resend_interval;
  const SeqNumber next = diverged_ ? Low() : last_executed_ + 1;
  Send(ReplicaId(target), SignBody(Fetch{next, Low()}));
}

void Replica::OnFetch(const Signed<Fetch>& m) {
  const Fetch& f = m.body;
  auto served = fetch_served_.find(m.signer.value());
  if (served != fetch_served_.end() && now_ - served->second < cfg_.resend_interval / 2) {
    return Drop(DropReason::kOverloaded);
  }
  if (!VerifySig(m)) return Drop(DropReason::kBadSignature);
  fetch_served_[m.signer.value()] = now_;
  FetchReply reply;
  const bool have_state = Low() > 0 && !StateMissing() && !d_.stable_state.empty();
  if (Low() > 0 && Low() > f.stable_seq) reply.checkpoint = d_.stable;
  if (have_state && Low() >= f.next_seq) {
    reply.checkpoint = d_.stable;
    reply.snapshot = d_.stable_state;
  }
  SeqNumber s = reply.snapshot ? Low() + 1 : f.next_seq;
  if (s > Low()) {
    for (; reply.entries.size() < cfg_.fetch_entries_max; ++s) {
      auto it = d_.log.find(s);
      if (it == d_.log.end() || !it->second.committed) break;
      reply.entries.push_back(*it->second.committed);
    }
  }
  if (!reply.checkpoint && reply.entries.empty()) return;
  Send(m.signer, SignBody(std::move(reply)));
}

void Replica::OnFetchReply(const Signed<FetchReply>& m) {
  const FetchReply& r = m.body;
  if (r.snapshot && !r.checkpoint) return Drop(DropReason::kMalformed);
  if (r.entries.size() > cfg_.fetch_entries_max) return Drop(DropReason::kMalformed);
  if (!VerifySig(m)) return Drop(DropReason::kBadSignature);
  if (r.checkpoint) {
    const CheckpointCert& cert = *r.checkpoint;
    const bool useful = cert.seq > Low() || (cert.seq == Low() && StateMissing() && r.snapshot);
    if (useful) {
      if (!VerifyCheckpointCert(cert) || cert.seq == 0) return Drop(DropReason::kInvalidCertificate);
      if (r.snapshot && StateDigest(*r.snapshot) != cert.digest) return Drop(DropReason::kInvalidCertificate);
      AdoptStableCheckpoint(cert, r.snapshot ? &*r.snapshot : nullptr);
    }
  }
  for (const auto& e : r.entries) {
    const SeqNumber s = e.pre_prepare.body.seq;
    if (s <= last_executed_ || s <= Low() || s > High()) continue;
    auto it = d_.log.find(s);
    if (it != d_.log.end() && it->second.committed) continue;
    if (!VerifyCommitCert(e)) {
      Drop(DropReason::kInvalidCertificate);
      continue;
    }
    d_.log[s].committed = e;
    ++counters_.entries_fetched;
  }
  Execute();
}

}  // namespace swarm::consensus
