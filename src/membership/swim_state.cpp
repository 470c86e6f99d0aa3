// Swim: the rules that move a member between alive, suspect, dead and left.
// Every update is a signed record (types.h):
//   - alive(i)/left(i), signed by the member, replace what we hold at an
//     incarnation below i; left(i) also replaces alive/suspect/dead at i.
//   - suspect(i)/dead(i), signed by an admitted accuser, are claims on the
//     member's latest signed incarnation k: i < k is stale, i > k counts as k
//     (a claim never moves an incarnation). Both start or confirm a suspicion;
//     only this peer's own suspicion timer makes a member dead here.
//   - claims about this peer are refuted with own incarnation + 1; this peer's
//     own signed record seen at a higher incarnation (an earlier life) is
//     adopted, then refuted above it.
// A record is verified only when it would change something (stale and
// duplicate updates cost nothing), and a credential only when it is new.
#include <algorithm>
#include <cmath>
#include <limits>

#include "membership/swim.h"

namespace swarm::membership {

Nanos Swim::Suspicion::ComputeDeadline() const {
  if (needed == 0 || max_timeout <= min_timeout) return start + min_timeout;
  const double c = static_cast<double>(confirmers.size() - 1);
  const double frac = std::log(c + 1.0) / std::log(static_cast<double>(needed) + 1.0);
  const double t = static_cast<double>(max_timeout) - frac * static_cast<double>(max_timeout - min_timeout);
  return start + std::max(min_timeout, static_cast<Nanos>(t));
}

Nanos Swim::SuspicionMin() const {
  while (!suspicion_heap_.empty()) {
    const auto [deadline, id] = suspicion_heap_.top();
    auto it = suspicions_.find(id);
    if (it != suspicions_.end() && it->second.deadline == deadline) return deadline;
    suspicion_heap_.pop();  // stale
  }
  return std::numeric_limits<Nanos>::max();
}

void Swim::SetState(MemberId m, MemberState s, uint32_t inc, Nanos now) {
  Slot& slot = slots_[m];
  const MemberState before = slot.state;
  slot.incarnation = inc;
  if (before == s) return;
  counts_[static_cast<int>(before)]--;
  counts_[static_cast<int>(s)]++;
  slot.state = s;
  if (observer_) observer_->OnMemberChange(self_, m, before, s, inc, now);
}

void Swim::AddMember(const Update& u, AdmissionPtr adm, Nanos now) {
  Slot& s = SlotFor(u.member);
  s.meta = u.meta;
  s.adm = std::move(adm);
  s.credential = u.credential;
  s.record_sig = u.signature;
  s.claim_sig.reset();
  s.incarnation = u.incarnation;
  s.record_left = false;
  s.state = MemberState::kAlive;
  s.weight_q = static_cast<uint16_t>(cfg_.weight_initial * 65535);
  counts_[static_cast<int>(MemberState::kAlive)]++;
  if (observer_) observer_->OnMemberChange(self_, u.member, std::nullopt, MemberState::kAlive, u.incarnation, now);
}

void Swim::ApplyUpdate(const Update& u, Nanos now) {
  if (u.state == MemberState::kAlive || u.state == MemberState::kLeft) {
    ApplyRecord(u, now);
  } else {
    ApplyClaim(u, now);
  }
}

namespace {
bool SameBytes(const SharedBytes& a, const SharedBytes& b) {
  if (a == b) return true;
  if (!a || !b) return false;
  return *a == *b;
}
}  // namespace

void Swim::ApplyOwnRecord(const Update& u, Nanos now) {
  // Our own signed record coming back: normally one we already hold. One at a
  // higher incarnation (or `left` at ours while we are not leaving) is from an
  // earlier life of this peer: adopt its incarnation and refute above it.
  if (leaving_) return;
  const bool newer = u.incarnation > incarnation_;
  const bool left_now = u.incarnation == incarnation_ && u.state == MemberState::kLeft;
  if (!newer && !left_now) return;
  if (!u.signature || !authority_->Verify(u)) return Reject("forged");
  incarnation_ = std::max(incarnation_, u.incarnation);
  Refute(now);
}

void Swim::ApplyRecord(const Update& u, Nanos now) {
  if (u.origin != u.member) return Reject("bad_origin");
  if (u.member == kAnyRecipient) return Reject("member_out_of_range");
  if (u.member == self_) return ApplyOwnRecord(u, now);
  if (!u.credential || u.credential->empty()) return Reject("missing_credential");
  if (!u.signature || u.signature->empty()) return Reject("missing_signature");
  const bool known = u.member < slots_.size() && slots_[u.member].meta && slots_[u.member].adm;
  if (known) {
    const Slot& s = slots_[u.member];
    if (u.incarnation < s.incarnation) return;  // stale
    if (u.incarnation == s.incarnation) {
      // A member signs one record per incarnation; only `left` may follow
      // alive (or a claim) at the same incarnation.
      if (u.state != MemberState::kLeft || s.record_left) return;
    }
    if (static_cast<uint64_t>(u.incarnation) > static_cast<uint64_t>(s.incarnation) + cfg_.incarnation_jump_max)
      return Reject("incarnation_jump");
  } else if (u.state == MemberState::kLeft) {
    return;  // news that someone we never knew left: nothing to do
  } else if (u.member < slots_.size() && slots_[u.member].meta) {
    return;  // (unreachable: every known slot is admitted)
  }
  AdmissionPtr adm;
  if (known && SameBytes(slots_[u.member].credential, u.credential)) {
    adm = slots_[u.member].adm;
  } else {
    auto a = authority_->Admit(u.member, u.credential);
    if (!a.ok()) return RejectStatus(a.status());
    adm = *a;
  }
  if (!authority_->Verify(u)) return Reject("forged");
  if (!known) {
    AddMember(u, std::move(adm), now);
    if (!bootstrapping_) {
      queue_.Push(u);
      NoteNewUpdate();
    }
    return;
  }
  Slot& s = slots_[u.member];
  if (u.state == MemberState::kAlive) s.meta = u.meta;
  s.adm = std::move(adm);
  s.credential = u.credential;
  s.record_sig = u.signature;
  s.claim_sig.reset();
  s.record_left = u.state == MemberState::kLeft;
  suspicions_.erase(u.member);
  SetState(u.member, u.state, u.incarnation, now);
  queue_.Push(u);
  NoteNewUpdate();
}

void Swim::ApplyClaim(const Update& u, Nanos now) {
  if (u.origin == self_) return;  // our own claims: we hold them already
  if (!IsAdmittedMember(u.origin)) return Reject("unadmitted");
  if (!u.signature || u.signature->empty()) return Reject("missing_signature");
  // A claim about ourselves is refuted even when we hold its accuser dead: after
  // a partition both sides hold each other dead, and the first claim that
  // crosses the healed link must start the refutation, or neither side ever
  // takes the other back. (The accuser is admitted and its signature checked;
  // a refutation only raises our own incarnation by one.)
  if (u.member == self_) {
    if (leaving_) return;
    if (u.incarnation < incarnation_) {  // refuted already: the sender gets our record
      if (std::find(stale_.begin(), stale_.end(), self_) == stale_.end()) stale_.push_back(self_);
      return;
    }
    if (!authority_->Verify(u)) return Reject("forged");
    Refute(now);  // own + 1, whatever incarnation the claim named
    return;
  }
  {
    const MemberState os = slots_[u.origin].state;
    if (os == MemberState::kDead || os == MemberState::kLeft) return;  // not a member now
  }
  if (u.member >= slots_.size() || !slots_[u.member].meta || !slots_[u.member].adm) return;  // ghost
  Slot& s = slots_[u.member];
  if (s.state == MemberState::kDead || s.state == MemberState::kLeft) return;
  if (u.incarnation < s.incarnation) {
    // Refuted already, but the sender still relays the claim: it missed the
    // refutation, so it gets the member's newer record (OnMessage sends it).
    if (std::find(stale_.begin(), stale_.end(), u.member) == stale_.end()) stale_.push_back(u.member);
    return;
  }
  if (s.state == MemberState::kSuspect) {
    // A confirmation, if independent and about the same incarnation (a claim
    // ahead of our record means the member refuted since: not a confirmation).
    if (!cfg_.lifeguard || u.incarnation != s.incarnation) return;
    auto it = suspicions_.find(u.member);
    if (it == suspicions_.end()) return;
    auto& c = it->second.confirmers;
    if (c.size() > it->second.needed || std::find(c.begin(), c.end(), u.origin) != c.end()) return;
    if (!authority_->Verify(u)) return Reject("forged");
    Confirm(u.member, u.origin);
    queue_.Push(u);
    return;
  }
  if (!authority_->Verify(u)) return Reject("forged");
  SetState(u.member, MemberState::kSuspect, s.incarnation, now);
  s.claim_sig = u.signature;
  s.claim_inc = u.incarnation;
  s.claim_origin = u.origin;
  s.claim_dead = u.state == MemberState::kDead;
  StartSuspicion(u.member, s.incarnation, u.origin, now);
  counters_.suspicions++;
  Update fwd = u;
  fwd.meta = nullptr;
  fwd.credential = nullptr;
  queue_.Push(fwd);
  NoteNewUpdate();
  TellAccused(fwd);
}

void Swim::TellAccused(const Update& claim) {
  // The accused hears of every suspicion directly from each peer that starts
  // one, so its refutation never depends on gossip happening to reach it.
  Message m;
  m.type = MessageType::kGossip;
  m.updates.push_back(claim);
  Send(claim.member, std::move(m), /*piggyback=*/false);
}

bool Swim::Confirm(MemberId m, MemberId origin) {
  auto it = suspicions_.find(m);
  if (it == suspicions_.end()) return false;
  it->second.confirmers.push_back(origin);  // an independent confirmation shortens the timeout
  it->second.deadline = it->second.ComputeDeadline();
  suspicion_heap_.push({it->second.deadline, m});
  return true;
}

void Swim::RaiseClaim(MemberId m, MemberState state, Nanos now) {
  Slot& s = slots_[m];
  Update u{state, m, s.incarnation, self_, nullptr, nullptr, nullptr};
  u.signature = authority_->Sign(u);
  s.claim_sig = u.signature;
  s.claim_inc = u.incarnation;
  s.claim_origin = self_;
  s.claim_dead = state == MemberState::kDead;
  if (state == MemberState::kSuspect) {
    if (s.state == MemberState::kSuspect) {
      // Already suspected on another's word: our failed probe confirms it.
      if (cfg_.lifeguard) {
        auto it = suspicions_.find(m);
        if (it != suspicions_.end()) {
          auto& c = it->second.confirmers;
          if (c.size() <= it->second.needed && std::find(c.begin(), c.end(), self_) == c.end()) Confirm(m, self_);
        }
      }
      queue_.Push(u);
      return;
    }
    SetState(m, MemberState::kSuspect, s.incarnation, now);
    StartSuspicion(m, s.incarnation, self_, now);
    counters_.suspicions++;
    TellAccused(u);
  } else {
    suspicions_.erase(m);
    SetState(m, state, s.incarnation, now);
  }
  queue_.Push(u);
  NoteNewUpdate();
}

void Swim::Refute(Nanos now) {
  if (incarnation_ == std::numeric_limits<uint32_t>::max()) {
    Reject("incarnation_exhausted");  // unreachable: only this peer raises its incarnation, by one
    return;
  }
  incarnation_ += 1;
  Slot& s = slots_[self_];
  s.incarnation = incarnation_;
  s.record_sig = authority_->Sign(SignedSelf(MemberState::kAlive));
  queue_.Push(SelfRecord());
  NoteNewUpdate();
  counters_.refutations++;
  AdjustHealth(1);
}

void Swim::StartSuspicion(MemberId m, uint32_t inc, MemberId origin, Nanos now) {
  const double n = static_cast<double>(std::max<size_t>(10, live_members()));
  const Nanos min_t =
      static_cast<Nanos>(cfg_.suspicion_mult * std::log10(n) * static_cast<double>(cfg_.probe_interval));
  Suspicion sp;
  sp.incarnation = inc;
  sp.start = now;
  sp.min_timeout = min_t;
  if (cfg_.lifeguard) {
    sp.max_timeout = static_cast<Nanos>(cfg_.suspicion_max_mult * static_cast<double>(min_t));
    const size_t live = live_members();
    sp.needed = static_cast<uint32_t>(std::min<size_t>(cfg_.suspicion_confirmations, live > 2 ? live - 2 : 0));
  } else {
    sp.max_timeout = min_t;
    sp.needed = 0;
  }
  sp.confirmers.push_back(origin);
  sp.deadline = sp.ComputeDeadline();
  suspicion_heap_.push({sp.deadline, m});
  suspicions_[m] = std::move(sp);
}

void Swim::ExpireSuspicions(Nanos now) {
  while (SuspicionMin() <= now) {
    const MemberId id = suspicion_heap_.top().second;
    suspicion_heap_.pop();
    const uint32_t inc = suspicions_[id].incarnation;
    suspicions_.erase(id);
    if (slots_[id].state != MemberState::kSuspect || slots_[id].incarnation != inc) continue;
    counters_.deaths++;
    RaiseClaim(id, MemberState::kDead, now);
  }
}

}  // namespace swarm::membership
