// Replica: view change and new view, and certificate verification.
#include <algorithm>
#include <set>

#include "consensus/canonical.h"
#include "consensus/replica.h"

namespace swarm::consensus {

bool Replica::VerifyCheckpointCert(const CheckpointCert& c) {
  if (c.seq == 0) return c.votes.empty() && c.digest == Digest{};
  if (c.seq % cfg_.checkpoint_interval != 0 || c.votes.size() > cfg_.n) return false;
  std::set<uint32_t> signers;
  for (const auto& v : c.votes) {
    if (v.signer.value() >= cfg_.n || !signers.insert(v.signer.value()).second) return false;
    if (v.body.seq != c.seq || v.body.state_digest != c.digest || !VerifySig(v)) return false;
  }
  return signers.size() >= cfg_.quorum();
}

bool Replica::VerifyPreparedCert(const PreparedCert& c, ViewNumber below_view) {
  const auto& pp = c.pre_prepare;
  if (pp.body.view >= below_view || pp.signer != Primary(pp.body.view)) return false;
  if (c.prepares.size() > cfg_.n || !ValidBatch(pp.body) || !VerifySig(pp)) return false;
  std::set<uint32_t> signers;
  for (const auto& p : c.prepares) {
    if (p.signer.value() >= cfg_.n || p.signer == pp.signer || !signers.insert(p.signer.value()).second) return false;
    if (p.body.view != pp.body.view || p.body.seq != pp.body.seq || p.body.digest != pp.body.digest) return false;
    if (!VerifySig(p)) return false;
  }
  return signers.size() >= 2 * cfg_.f();
}

bool Replica::VerifyCommitCert(const CommitCert& c) {
  const auto& pp = c.pre_prepare;
  if (pp.signer != Primary(pp.body.view) || c.commits.size() > cfg_.n) return false;
  if (!ValidBatch(pp.body) || !VerifySig(pp)) return false;
  std::set<uint32_t> signers;
  for (const auto& m : c.commits) {
    if (m.signer.value() >= cfg_.n || !signers.insert(m.signer.value()).second) return false;
    if (m.body.view != pp.body.view || m.body.seq != pp.body.seq || m.body.digest != pp.body.digest) return false;
    if (!VerifySig(m)) return false;
  }
  return signers.size() >= cfg_.quorum();
}

bool Replica::VerifyViewChange(const Signed<ViewChange>& m) {
  const ViewChange& vc = m.body;
  if (m.signer.value() >= cfg_.n) return false;
  if (!VerifySig(m)) {
    Drop(DropReason::kBadSignature);
    return false;
  }
  bool ok = vc.new_view > 0 && vc.prepared.size() <= cfg_.log_window && VerifyCheckpointCert(vc.checkpoint);
  std::set<SeqNumber> seqs;
  for (size_t i = 0; ok && i < vc.prepared.size(); ++i) {
    const SeqNumber s = vc.prepared[i].pre_prepare.body.seq;
    ok = s > vc.checkpoint.seq && s <= vc.checkpoint.seq + cfg_.log_window && seqs.insert(s).second &&
         VerifyPreparedCert(vc.prepared[i], vc.new_view);
  }
  if (!ok) Drop(DropReason::kInvalidCertificate);
  return ok;
}

Replica::NewViewPlan Replica::ComputeNewViewPlan(ViewNumber view,
                                                 const std::vector<Signed<ViewChange>>& vcs) {
  NewViewPlan plan;
  for (const auto& vc : vcs) {
    if (vc.body.checkpoint.seq > plan.checkpoint.seq) plan.checkpoint = vc.body.checkpoint;
  }
  const SeqNumber min_s = plan.checkpoint.seq;
  std::map<SeqNumber, const PrePrepare*> best;
  for (const auto& vc : vcs) {
    for (const auto& cert : vc.body.prepared) {
      const PrePrepare& pp = cert.pre_prepare.body;
      if (pp.seq <= min_s) continue;
      const PrePrepare*& b = best[pp.seq];
      // Highest view wins; ties (impossible between valid certificates) break on digest.
      if (b == nullptr || pp.view > b->view || (pp.view == b->view && pp.digest < b->digest)) b = &pp;
    }
  }
  const SeqNumber max_s = best.empty() ? min_s : best.rbegin()->first;
  const Digest null_digest = BatchDigest({});
  for (SeqNumber s = min_s + 1; s <= max_s; ++s) {
    auto it = best.find(s);
    if (it != best.end()) {
      plan.pre_prepares.push_back(PrePrepare{view, s, it->second->digest, it->second->batch});
    } else {
      plan.pre_prepares.push_back(PrePrepare{view, s, null_digest, {}});
    }
  }
  return plan;
}

void Replica::EnterView(ViewNumber v) {
  if (v != d_.view) {
    d_.view = v;
    d_.new_view.reset();
    d_.next_seq = 0;
  }
  for (auto& [seq, slot] : d_.log) {
    slot.pre_prepare.reset();
    slot.prepares.clear();
    slot.commits.clear();
  }
  for (auto& [key, p] : pending_) p.in_flight = false;
  ready_.must_persist = true;
}

Signed<ViewChange> Replica::BuildViewChange() {
  ViewChange vc;
  vc.new_view = d_.view;
  vc.checkpoint = d_.stable;
  for (const auto& [seq, slot] : d_.log) {
    if (seq > Low() && slot.prepared) vc.prepared.push_back(*slot.prepared);
  }
  return SignBody(std::move(vc));
}

void Replica::StartViewChange(ViewNumber v) {
  SWARM_ASSERT(v > d_.view || (v == d_.view && !d_.in_view_change));
  ++counters_.view_changes_started;
  ++backoff_;
  EnterView(v);
  d_.in_view_change = true;
  request_deadline_.reset();
  view_change_deadline_ = now_ + Backoff(cfg_.view_change_timeout);
  auto vc = BuildViewChange();
  view_changes_[cfg_.self.value()] = vc;
  Broadcast(std::move(vc));
  MaybeSendNewView();
}

void Replica::ResendNewView(ReplicaId to) {
  if (!d_.new_view || d_.in_view_change) return;
  auto it = new_view_sent_.find(to.value());
  if (it != new_view_sent_.end() && now_ - it->second < cfg_.resend_interval) return;
  new_view_sent_[to.value()] = now_;
  Send(to, *d_.new_view);
}

void Replica::OnViewChange(const Signed<ViewChange>& m) {
  const ViewChange& vc = m.body;
  const uint32_t j = m.signer.value();
  if (vc.new_view > (uint64_t{1} << 62)) return Drop(DropReason::kMalformed);
  if (vc.new_view < d_.view || (vc.new_view == d_.view && !d_.in_view_change)) {
    // j is behind: if it is asking for the view we already run, hand it our new-view.
    if (vc.new_view == d_.view) ResendNewView(m.signer);
    return Drop(DropReason::kWrongView);
  }
  auto have = view_changes_.find(j);
  if (have != view_changes_.end()) {
    if (have->second.body.new_view > vc.new_view) return Drop(DropReason::kWrongView);
    if (have->second.signature == m.signature) return Drop(DropReason::kDuplicate);
  }
  if (!VerifyViewChange(m)) return;  // counted inside
  view_changes_[j] = m;
  // Join rule: f+1 replicas want views above ours -> move to the smallest of them.
  std::vector<ViewNumber> higher;
  for (const auto& [who, v] : view_changes_) {
    if (who != cfg_.self.value() && v.body.new_view > d_.view) higher.push_back(v.body.new_view);
  }
  if (higher.size() >= cfg_.f() + 1) {
    StartViewChange(*std::min_element(higher.begin(), higher.end()));
    return;
  }
  MaybeSendNewView();
}

void Replica::MaybeSendNewView() {
  if (!d_.in_view_change || Primary(d_.view) != cfg_.self) return;
  std::vector<Signed<ViewChange>> set;
  auto own = view_changes_.find(cfg_.self.value());
  if (own == view_changes_.end() || own->second.body.new_view != d_.view) return;
  set.push_back(own->second);
  for (const auto& [who, vc] : view_changes_) {
    if (who != cfg_.self.value() && vc.body.new_view == d_.view && set.size() < cfg_.quorum()) set.push_back(vc);
  }
  if (set.size() < cfg_.quorum()) return;
  NewViewPlan plan = ComputeNewViewPlan(d_.view, set);
  NewView nv;
  nv.view = d_.view;
  nv.view_changes = std::move(set);
  for (auto& pp : plan.pre_prepares) nv.pre_prepares.push_back(SignBody(std::move(pp)));
  auto signed_nv = SignBody(std::move(nv));
  Broadcast(signed_nv);
  InstallNewView(signed_nv);
}

void Replica::OnNewView(const Signed<NewView>& m) {
  const NewView& nv = m.body;
  if (nv.view < d_.view || (nv.view == d_.view && !d_.in_view_change) || nv.view > (uint64_t{1} << 62)) {
    return Drop(DropReason::kWrongView);
  }
  if (m.signer != Primary(nv.view)) return Drop(DropReason::kNotPrimary);
  if (nv.view_changes.size() < cfg_.quorum() || nv.view_changes.size() > cfg_.n ||
      nv.pre_prepares.size() > cfg_.log_window) {
    return Drop(DropReason::kMalformed);
  }
  if (!VerifySig(m)) return Drop(DropReason::kBadSignature);
  std::set<uint32_t> signers;
  for (const auto& vc : nv.view_changes) {
    if (vc.body.new_view != nv.view || !signers.insert(vc.signer.value()).second) {
      return Drop(DropReason::kInvalidCertificate);
    }
    if (!VerifyViewChange(vc)) return;  // counted inside
  }
  const NewViewPlan plan = ComputeNewViewPlan(nv.view, nv.view_changes);
  if (plan.pre_prepares.size() != nv.pre_prepares.size()) return Drop(DropReason::kInvalidCertificate);
  for (size_t i = 0; i < plan.pre_prepares.size(); ++i) {
    const auto& got = nv.pre_prepares[i];
    if (got.signer != m.signer || !(got.body == plan.pre_prepares[i]) || !VerifySig(got)) {
      return Drop(DropReason::kInvalidCertificate);
    }
  }
  InstallNewView(m);
}

void Replica::InstallNewView(const Signed<NewView>& snv) {
  const NewView& nv = snv.body;
  EnterView(nv.view);
  d_.in_view_change = false;
  d_.new_view = snv;
  ++counters_.new_views_installed;
  const NewViewPlan plan = ComputeNewViewPlan(nv.view, nv.view_changes);
  if (plan.checkpoint.seq > Low()) AdoptStableCheckpoint(plan.checkpoint, nullptr);
  SeqNumber top = plan.checkpoint.seq;
  for (const auto& pp : nv.pre_prepares) {
    top = std::max(top, pp.body.seq);
    if (pp.body.seq > Low() && pp.body.seq <= High()) AcceptPrePrepare(pp);
  }
  d_.next_seq = std::max(d_.next_seq, top);
  for (auto it = view_changes_.begin(); it != view_changes_.end();) {
    it = it->second.body.new_view <= nv.view ? view_changes_.erase(it) : std::next(it);
  }
  ResetRequestTimer();
  MaybePropose(false);
}

}  // namespace swarm::consensus
