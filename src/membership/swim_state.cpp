// Swim: the rules that move a member between alive, suspect, dead and left,
// ordered by incarnation number (SWIM §4.2, memberlist's precedence).
//   alive(i)   overrides suspect(j)/dead(j)/left(j) if i > j, alive(j) if i > j
//   suspect(i) overrides alive(j) if i >= j, suspect(j) if i > j
//   dead(i)    overrides alive(j)/suspect(j) if i >= j
//   left(i)    like dead; also replaces dead(j) if i >= j
// News about this peer itself is refuted with a higher incarnation.
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

void Swim::AddMember(const Update& u, Nanos now) {
  Slot& s = SlotFor(u.member);
  s.meta = u.meta;
  s.incarnation = u.incarnation;
  s.state = MemberState::kAlive;
  s.weight_q = static_cast<uint16_t>(cfg_.weight_initial * 65535);
  counts_[static_cast<int>(MemberState::kAlive)]++;
  if (observer_) observer_->OnMemberChange(self_, u.member, std::nullopt, MemberState::kAlive, u.incarnation, now);
}

void Swim::ApplyUpdate(const Update& u, bool from_sync, Nanos now) {
  const uint64_t known = u.member == self_ ? incarnation_
                         : (u.member < slots_.size() && slots_[u.member].meta) ? slots_[u.member].incarnation
                                                                                 : 0;
  if (static_cast<uint64_t>(u.incarnation) > known + cfg_.incarnation_jump_max) {
    Reject("incarnation_jump");
    return;
  }
  if (u.member == self_) {
    if (leaving_) return;
    if (u.state == MemberState::kAlive ? u.incarnation > incarnation_ : u.incarnation >= incarnation_)
      Refute(u.incarnation, now);
    return;
  }
  switch (u.state) {
    case MemberState::kAlive:
      ApplyAlive(u, now);
      break;
    case MemberState::kSuspect:
      ApplySuspect(u, now);
      break;
    case MemberState::kDead:
      if (from_sync) {
        // A full-state sync saying "dead" is only a suspicion here: the member
        // gets the chance to refute (it may be alive on our side of a split).
        Update s = u;
        s.state = MemberState::kSuspect;
        ApplySuspect(s, now);
      } else {
        ApplyDead(u, now);
      }
      break;
    case MemberState::kLeft:
      ApplyDead(u, now);
      break;
  }
}

void Swim::ApplyAlive(const Update& u, Nanos now) {
  if (u.member >= slots_.size() || !slots_[u.member].meta) {
    AddMember(u, now);
    queue_.Push(u);
    NoteNewUpdate();
    return;
  }
  Slot& s = slots_[u.member];
  if (u.incarnation <= s.incarnation) return;
  s.meta = u.meta;
  suspicions_.erase(u.member);
  SetState(u.member, MemberState::kAlive, u.incarnation, now);
  queue_.Push(u);
  NoteNewUpdate();
}

void Swim::ApplySuspect(const Update& u, Nanos now) {
  if (u.member >= slots_.size() || !slots_[u.member].meta) return;
  Slot& s = slots_[u.member];
  if (s.state == MemberState::kDead || s.state == MemberState::kLeft) return;
  if (u.incarnation < s.incarnation) return;
  if (s.state == MemberState::kSuspect && u.incarnation == s.incarnation) {
    if (!cfg_.lifeguard) return;
    auto it = suspicions_.find(u.member);
    if (it == suspicions_.end()) return;
    auto& c = it->second.confirmers;
    if (c.size() > it->second.needed || std::find(c.begin(), c.end(), u.origin) != c.end()) return;
    c.push_back(u.origin);  // an independent confirmation shortens the timeout
    it->second.deadline = it->second.ComputeDeadline();
    suspicion_heap_.push({it->second.deadline, u.member});
    queue_.Push(u);
    return;
  }
  SetState(u.member, MemberState::kSuspect, u.incarnation, now);
  StartSuspicion(u.member, u.incarnation, u.origin, now);
  counters_.suspicions++;
  Update fwd = u;
  fwd.meta = nullptr;
  queue_.Push(fwd);
  NoteNewUpdate();
}

void Swim::ApplyDead(const Update& u, Nanos now) {
  if (u.member >= slots_.size() || !slots_[u.member].meta) return;
  Slot& s = slots_[u.member];
  if (u.incarnation < s.incarnation) return;
  if (s.state == MemberState::kLeft) return;
  if (s.state == MemberState::kDead && u.state == MemberState::kDead) return;
  suspicions_.erase(u.member);
  SetState(u.member, u.state, u.incarnation, now);
  Update fwd = u;
  fwd.meta = nullptr;
  queue_.Push(fwd);
  NoteNewUpdate();
}

void Swim::Refute(uint32_t claimed, Nanos now) {
  const uint32_t top = std::max(incarnation_, claimed);
  if (top == std::numeric_limits<uint32_t>::max()) {
    Reject("incarnation_exhausted");  // cannot go higher; unreachable given incarnation_jump_max
    return;
  }
  incarnation_ = top + 1;
  Slot& s = slots_[self_];
  s.incarnation = incarnation_;
  queue_.Push(Update{MemberState::kAlive, self_, incarnation_, self_, s.meta});
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
    if (slots_[id].state != MemberState::kSuspect) continue;
    SetState(id, MemberState::kDead, inc, now);
    counters_.deaths++;
    queue_.Push(Update{MemberState::kDead, id, inc, self_, nullptr});
    NoteNewUpdate();
  }
}

}  // namespace swarm::membership
