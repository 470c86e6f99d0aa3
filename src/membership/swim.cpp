// Swim: probing, timers, dissemination and message dispatch. The rules that
// change a member's state live in swim_state.cpp.
#include "membership/swim.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace swarm::membership {

Swim::Swim(MemberId self, Metadata meta, SharedBytes credential, const Config& cfg, uint64_t seed,
           Authority* authority)
    : self_(self), cfg_(cfg), authority_(authority), self_admission_(AdmissionPtr{}), rng_(seed),
      queue_(cfg.broadcast_queue_max), fanout_(cfg.fanout_min) {
  const Status st = cfg_.Validate();
  if (!st.ok()) std::fprintf(stderr, "swarm: %s\n", std::string(st.message()).c_str());
  SWARM_ASSERT(st.ok());
  SWARM_ASSERT(self < cfg_.members_max && self != kAnyRecipient);
  SWARM_ASSERT(authority_ != nullptr);
  Slot& s = SlotFor(self);
  s.meta = std::make_shared<const Metadata>(std::move(meta));
  s.credential = credential ? std::move(credential) : std::make_shared<const Bytes>();
  s.state = MemberState::kAlive;
  s.weight_q = 65535;
  self_admission_ = authority_->Admit(self_, s.credential);
  if (self_admission_.ok()) s.adm = *self_admission_;
  s.record_sig = authority_->Sign(SignedSelf(MemberState::kAlive));
  counts_[static_cast<int>(MemberState::kAlive)] = 1;
}

Update Swim::SignedSelf(MemberState state) {
  const Slot& s = slots_[self_];
  Update u{state, self_, incarnation_, self_, state == MemberState::kAlive ? s.meta : nullptr, s.credential,
           nullptr};
  if (state == MemberState::kLeft) u.meta = s.meta;  // kept for display; not signed as alive
  return u;
}

Update Swim::SelfRecord() const {
  const Slot& s = slots_[self_];
  const MemberState st = leaving_ ? MemberState::kLeft : MemberState::kAlive;
  return Update{st, self_, incarnation_, self_, s.meta, s.credential, s.record_sig};
}

Swim::Slot& Swim::SlotFor(MemberId id) {
  if (id >= slots_.size()) slots_.resize(static_cast<size_t>(id) + 1);
  return slots_[id];
}

void Swim::EnsureStarted(Nanos now) {
  if (started_) return;
  started_ = true;
  // Random phases so that peers started together do not probe in lock-step.
  next_probe_at_ = now + static_cast<Nanos>(rng_.Uniform(static_cast<uint64_t>(cfg_.probe_interval)));
  next_gossip_at_ = now;
  rate_sampled_at_ = now;
  next_push_pull_at_ = now + PushPullInterval() +
                       static_cast<Nanos>(rng_.Uniform(static_cast<uint64_t>(cfg_.push_pull_interval)));
  next_reconnect_at_ = now + cfg_.reconnect_interval +
                       static_cast<Nanos>(rng_.Uniform(static_cast<uint64_t>(cfg_.reconnect_interval)));
  next_bucket_prune_ = now + Seconds(10);
}

Status Swim::AddKnownMember(const Update& record) {
  if (record.member >= cfg_.members_max || record.member == self_ || record.origin != record.member ||
      record.state != MemberState::kAlive || !record.meta)
    return absl::InvalidArgumentError(absl::StrCat("add member ", record.member,
                                                   ": not another member's own alive record"));
  const uint64_t before = counters_.rejected_total;
  bootstrapping_ = true;  // known from a list, not news: nothing to gossip
  ApplyRecord(record, 0);
  bootstrapping_ = false;
  if (counters_.rejected_total != before || !IsAdmittedMember(record.member))
    return absl::PermissionDeniedError(
        absl::StrCat("add member ", record.member, ": record refused (see counters().rejected)"));
  return absl::OkStatus();
}

uint32_t Swim::RetransmitLimit() const {
  const double n = static_cast<double>(std::max<size_t>(1, live_members()));
  return std::max<uint32_t>(1, static_cast<uint32_t>(std::ceil(cfg_.retransmit_mult * std::log10(n + 1))));
}

Nanos Swim::PushPullInterval() const {
  const size_t n = live_members();
  if (n <= 32) return cfg_.push_pull_interval;
  const double mult = std::ceil(std::log2(static_cast<double>(n)) - 5.0) + 1.0;
  return static_cast<Nanos>(mult * static_cast<double>(cfg_.push_pull_interval));
}

// ---------------------------------------------------------------- sending

void Swim::Send(MemberId to, Message msg, bool piggyback) {
  if (piggyback) {
    // Until `to` has answered us, our own record rides along: a member that
    // has not heard of us yet admits us from it instead of refusing us.
    const bool intro = leaving_ || (to < slots_.size() && !slots_[to].heard);
    const size_t before = msg.updates.size();
    queue_.Take(cfg_.piggyback_updates_max - (intro ? 1 : 0), RetransmitLimit(), &msg.updates);
    counters_.updates_sent += msg.updates.size() - before;
    if (intro) msg.updates.push_back(SelfRecord());
  }
  msg.recipient = to;
  counters_.sent[static_cast<int>(msg.type)]++;
  counters_.messages_sent++;
  outbox_.push_back(Outgoing{to, std::move(msg)});
}

void Swim::SendState(MemberId to, MessageType type, bool join) {
  Message m;
  m.type = type;
  m.target = to;
  m.join = join;
  const uint32_t chunk = cfg_.sync_updates_per_message_max;
  // Each member's own signed record, then (suspect/dead) the claim against it.
  // Every chunk starts with our own record, so that a chunk arriving first
  // (reordered) still introduces us to a peer that does not know us yet.
  m.updates.push_back(SelfRecord());
  auto flush = [&](size_t room) {
    if (m.updates.size() + room > chunk && m.updates.size() > 1) {
      Send(to, m, /*piggyback=*/false);
      m.updates.clear();
      m.updates.push_back(SelfRecord());
    }
  };
  for (MemberId id = 0; id < slots_.size(); ++id) {
    if (id == self_) continue;
    const Slot& s = slots_[id];
    if (!s.meta || !s.adm) continue;
    const bool claim = (s.state == MemberState::kSuspect || s.state == MemberState::kDead) && s.claim_sig;
    flush(claim ? 2 : 1);
    m.updates.push_back(Update{s.record_left ? MemberState::kLeft : MemberState::kAlive, id, s.incarnation, id,
                               s.meta, s.credential, s.record_sig});
    if (claim)
      m.updates.push_back(Update{s.claim_dead ? MemberState::kDead : MemberState::kSuspect, id, s.claim_inc,
                                 s.claim_origin, nullptr, nullptr, s.claim_sig});
  }
  Send(to, std::move(m), false);
}

// ---------------------------------------------------------------- peer selection

std::optional<MemberId> Swim::NextProbeTarget() {
  const uint64_t n = slots_.size();
  for (uint64_t attempt = 0; attempt <= n; ++attempt) {
    if (perm_i_ >= perm_m_) {
      // A fresh random affine permutation x -> (a·x + b) mod n of all slots:
      // round-robin in random order without storing an order (memory is O(1)
      // per peer, which matters with 10,000 simulated peers).
      perm_m_ = n;
      perm_a_ = 1;
      if (n > 2) {
        do perm_a_ = 1 + rng_.Uniform(n - 1);
        while (std::gcd(perm_a_, n) != 1);
      }
      perm_b_ = rng_.Uniform(n);
      perm_i_ = 0;
    }
    const MemberId x = static_cast<MemberId>((perm_a_ * perm_i_ + perm_b_) % perm_m_);
    ++perm_i_;
    if (x >= slots_.size() || x == self_) continue;
    const Slot& s = slots_[x];
    if (s.meta && (s.state == MemberState::kAlive || s.state == MemberState::kSuspect)) return x;
  }
  return std::nullopt;
}

std::optional<MemberId> Swim::RandomMember(bool dead, std::span<const MemberId> exclude) {
  const size_t n = slots_.size();
  if (n == 0) return std::nullopt;
  auto ok = [&](MemberId x) {
    if (x == self_) return false;
    const Slot& s = slots_[x];
    if (!s.meta) return false;
    const bool match = dead ? s.state == MemberState::kDead
                            : (s.state == MemberState::kAlive || s.state == MemberState::kSuspect);
    if (!match) return false;
    return std::find(exclude.begin(), exclude.end(), x) == exclude.end();
  };
  for (int t = 0; t < 64; ++t) {
    const auto x = static_cast<MemberId>(rng_.Uniform(n));
    if (ok(x)) return x;
  }
  const auto start = static_cast<MemberId>(rng_.Uniform(n));
  for (size_t i = 0; i < n; ++i) {
    const auto x = static_cast<MemberId>((start + i) % n);
    if (ok(x)) return x;
  }
  return std::nullopt;
}

std::optional<MemberId> Swim::WeightedPick(std::span<const MemberId> exclude) {
  if (!cfg_.adaptive_weights) return RandomMember(false, exclude);
  // Tournament: the best-weighted of a few uniform candidates. Keeps the
  // randomness epidemics need while favouring links that answer.
  std::optional<MemberId> best;
  for (uint32_t t = 0; t < cfg_.weight_tournament; ++t) {
    auto c = RandomMember(false, exclude);
    if (!c) break;
    if (!best || slots_[*c].weight_q > slots_[*best].weight_q) best = c;
  }
  return best;
}

void Swim::SetWeight(MemberId id, double w) {
  w = std::clamp(w, cfg_.weight_min, 1.0);
  slots_[id].weight_q = static_cast<uint16_t>(std::lround(w * 65535));
}
void Swim::RaiseWeight(MemberId id) {
  const double w = Weight(id);
  SetWeight(id, w + cfg_.weight_rise * (1 - w));
}
void Swim::DecayWeight(MemberId id) { SetWeight(id, Weight(id) * cfg_.weight_decay); }

void Swim::AdjustHealth(int delta) {
  if (!cfg_.lifeguard) return;
  const int h = static_cast<int>(health_) + delta;
  health_ = static_cast<uint32_t>(std::clamp(h, 0, static_cast<int>(cfg_.health_max)));
}

void Swim::NoteNewUpdate() { new_updates_ += 1; }

// ---------------------------------------------------------------- probing

void Swim::StartProbe(Nanos now) {
  const Nanos scale = cfg_.lifeguard ? 1 + health_ : 1;
  next_probe_at_ = now + cfg_.probe_interval * scale;
  auto target = NextProbeTarget();
  if (!target) return;
  probe_.active = true;
  probe_.indirect_sent = false;
  probe_.target = *target;
  probe_.seq = next_seq_++;
  probe_.indirect_at = now + cfg_.probe_timeout * scale;
  probe_.end = next_probe_at_;
  probe_.helpers.clear();
  probe_.nacked.clear();
  counters_.probes++;
  Message m;
  m.type = MessageType::kPing;
  m.seq = probe_.seq;
  m.target = *target;
  Send(*target, std::move(m));
}

void Swim::SendIndirect(Nanos now) {
  probe_.indirect_sent = true;
  if (cfg_.adaptive_weights) DecayWeight(probe_.target);
  std::vector<MemberId> exclude{self_, probe_.target};
  for (uint32_t i = 0; i < cfg_.indirect_probes; ++i) {
    auto h = WeightedPick(exclude);
    if (!h) break;
    exclude.push_back(*h);
    probe_.helpers.push_back(*h);
    Message m;
    m.type = MessageType::kPingReq;
    m.seq = probe_.seq;
    m.target = probe_.target;
    Send(*h, std::move(m));
  }
}

void Swim::FinishProbe(bool acked, Nanos now) {
  probe_.active = false;
  if (acked) {
    AdjustHealth(-1);
    return;
  }
  counters_.probe_failures++;
  if (cfg_.lifeguard && !probe_.helpers.empty()) {
    // Helpers that did not even send a nack suggest that we are the slow one.
    AdjustHealth(static_cast<int>(probe_.helpers.size() - probe_.nacked.size()));
  } else {
    AdjustHealth(1);
  }
  if (cfg_.adaptive_weights && cfg_.lifeguard) {
    // Without nacks we cannot tell a silent helper from a dead target.
    for (MemberId h : probe_.helpers)
      if (std::find(probe_.nacked.begin(), probe_.nacked.end(), h) == probe_.nacked.end()) DecayWeight(h);
  }
  const Slot& s = slots_[probe_.target];
  if (s.meta && (s.state == MemberState::kAlive || s.state == MemberState::kSuspect))
    RaiseClaim(probe_.target, MemberState::kSuspect, now);
}

void Swim::HandleAck(MemberId from, const Message& msg, Nanos now) {
  if (probe_.active && msg.seq == probe_.seq) {
    const bool helper =
        std::find(probe_.helpers.begin(), probe_.helpers.end(), from) != probe_.helpers.end();
    if (from != probe_.target && !helper) return;  // not an answer we asked for
    if (cfg_.adaptive_weights) RaiseWeight(from);
    FinishProbe(true, now);
    return;
  }
  for (size_t i = 0; i < relays_.size(); ++i) {
    if (relays_[i].seq == msg.seq && relays_[i].target == from) {
      Message ack;
      ack.type = MessageType::kAck;
      ack.seq = relays_[i].orig_seq;
      ack.target = from;
      const MemberId requester = relays_[i].requester;
      relays_[i] = relays_.back();
      relays_.pop_back();
      Send(requester, std::move(ack));
      return;
    }
  }
  // A late ack for a finished probe: nothing to do.
}

// ---------------------------------------------------------------- gossip

void Swim::GossipRound(Nanos now) {
  const double rounds =
      std::max(1.0, static_cast<double>(now - rate_sampled_at_) / static_cast<double>(cfg_.gossip_interval));
  const double a = cfg_.fanout_ewma_alpha;
  update_rate_ = update_rate_ * std::pow(1 - a, rounds) + a * new_updates_;
  new_updates_ = 0;
  rate_sampled_at_ = now;
  if (cfg_.adaptive_fanout) {
    const double f = cfg_.fanout_min + cfg_.fanout_gain * update_rate_;
    fanout_ = static_cast<uint32_t>(std::clamp<double>(std::lround(f), cfg_.fanout_min, cfg_.fanout_max));
  } else {
    fanout_ = cfg_.fanout_min;
  }
  std::vector<MemberId> exclude{self_};
  for (uint32_t i = 0; i < fanout_ && !queue_.empty(); ++i) {
    auto t = WeightedPick(exclude);
    if (!t) break;
    exclude.push_back(*t);
    Message m;
    m.type = MessageType::kGossip;
    Send(*t, std::move(m));
  }
}

// ---------------------------------------------------------------- driver API

Status Swim::Join(std::span<const MemberId> seeds, Nanos now) {
  EnsureStarted(now);
  join_seeds_.clear();
  for (MemberId s : seeds)
    if (s != self_ && s < cfg_.members_max) join_seeds_.push_back(s);
  if (join_seeds_.empty())
    return absl::InvalidArgumentError(
        absl::StrCat("join: seed list is empty or names only this peer (", seeds.size(),
                     " given); at least one other reachable peer is needed"));
  joining_ = true;
  join_started_ = now;
  // Our own record rides on our first messages, so that members who have not
  // heard of us yet can admit us before they answer.
  queue_.Push(SelfRecord());
  join_status_ = absl::UnavailableError("join: waiting for a seed to answer");
  for (MemberId s : join_seeds_) SendState(s, MessageType::kSync, true);
  next_join_at_ = now + cfg_.join_retry_interval;
  return absl::OkStatus();
}

void Swim::Leave(Nanos now) {
  EnsureStarted(now);
  if (leaving_) return;
  leaving_ = true;
  leave_started_ = now;
  probe_.active = false;
  Slot& s = slots_[self_];
  SetState(self_, MemberState::kLeft, incarnation_, now);
  s.record_left = true;
  s.record_sig = authority_->Sign(SignedSelf(MemberState::kLeft));
  queue_.Push(SelfRecord());
}

bool Swim::LeaveDone(Nanos now) const {
  return leaving_ && (!queue_.Contains(self_) || now - leave_started_ >= cfg_.leave_timeout);
}

void Swim::UpdateMetadata(Metadata meta) {
  if (leaving_) return;
  ++incarnation_;
  Slot& s = slots_[self_];
  s.meta = std::make_shared<const Metadata>(std::move(meta));
  s.incarnation = incarnation_;
  s.record_sig = authority_->Sign(SignedSelf(MemberState::kAlive));
  queue_.Push(SelfRecord());
  NoteNewUpdate();
}

Status Swim::UpdateCredential(SharedBytes credential) {
  if (leaving_) return absl::FailedPreconditionError("membership: leaving");
  if (!credential || credential->empty()) return absl::InvalidArgumentError("membership: empty credential");
  auto adm = authority_->Admit(self_, credential);
  if (!adm.ok()) return adm.status();
  ++incarnation_;
  Slot& s = slots_[self_];
  s.credential = std::move(credential);
  s.adm = *adm;
  self_admission_ = *adm;
  s.incarnation = incarnation_;
  s.record_sig = authority_->Sign(SignedSelf(MemberState::kAlive));
  queue_.Push(SelfRecord());
  NoteNewUpdate();
  return absl::OkStatus();
}

void Swim::Reject(const char* reason) {
  counters_.rejected_total++;
  counters_.rejected[reason]++;
}

bool Swim::Admit(MemberId from, Nanos now) {
  if (!cfg_.rate_limit) return true;
  auto [it, fresh] = buckets_.try_emplace(from, Bucket{cfg_.peer_messages_burst, now});
  Bucket& b = it->second;
  if (!fresh) {
    b.tokens = std::min(cfg_.peer_messages_burst,
                        b.tokens + ToSeconds(now - b.last) * cfg_.peer_messages_per_second_max);
    b.last = now;
  }
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

void Swim::RejectStatus(const Status& st) {
  const std::string m(st.message());
  const std::string reason = m.substr(0, std::min(m.find(':'), size_t{32}));
  counters_.rejected_total++;
  counters_.rejected[reason.empty() ? "not_admitted" : reason]++;
}

void Swim::OnMessage(MemberId from, const Message& msg, Nanos now) {
  EnsureStarted(now);
  if (from == self_) return Reject("from_self");
  if (from >= cfg_.members_max || msg.target >= cfg_.members_max) return Reject("member_out_of_range");
  if (static_cast<int>(msg.type) >= kMessageTypeCount) return Reject("bad_type");
  if (msg.recipient != self_ &&
      !(msg.recipient == kAnyRecipient && msg.type == MessageType::kSync && msg.join))
    return Reject("wrong_recipient");
  const bool sync = msg.type == MessageType::kSync || msg.type == MessageType::kSyncReply;
  const size_t limit = sync ? cfg_.sync_updates_per_message_max : cfg_.piggyback_updates_max;
  if (msg.updates.size() > limit) return Reject("too_many_updates");
  for (const Update& u : msg.updates) {
    if (u.member >= cfg_.members_max || u.origin >= cfg_.members_max) return Reject("member_out_of_range");
    if (static_cast<int>(u.state) > static_cast<int>(MemberState::kLeft)) return Reject("bad_state");
    if (u.state == MemberState::kAlive && !u.meta) return Reject("alive_without_metadata");
  }
  if (msg.type == MessageType::kPing && msg.target != self_) return Reject("ping_target_mismatch");
  if (!Admit(from, now)) return Reject("rate_limited");
  counters_.received[static_cast<int>(msg.type)]++;

  const bool from_dead_reconnect =
      msg.type == MessageType::kSyncReply && reconnect_target_ == from;
  if (!IsAdmittedMember(from)) {
    // A sender we do not hold as a member may only present its own record
    // (a joiner, or news of it that has not reached us); nothing else it
    // says is read, so an outsider costs at most one credential check.
    for (const Update& u : msg.updates)
      if (u.member == from && u.origin == from && u.state == MemberState::kAlive) {
        ApplyUpdate(u, now);
        break;
      }
    if (!IsAdmittedMember(from)) {
      stale_.clear();
      return Reject("unadmitted");
    }
    for (const Update& u : msg.updates)
      if (!(u.member == from && u.origin == from)) ApplyUpdate(u, now);
  } else {
    for (const Update& u : msg.updates) ApplyUpdate(u, now);
  }
  slots_[from].heard = true;
  if (!stale_.empty()) {
    // The sender relayed claims we know were refuted: send it the refutations.
    Message fix;
    fix.type = MessageType::kGossip;
    for (MemberId m : stale_) {
      if (m == self_) {
        fix.updates.push_back(SelfRecord());
        continue;
      }
      const Slot& s = slots_[m];
      if (fix.updates.size() >= cfg_.piggyback_updates_max || s.record_left) continue;
      fix.updates.push_back(Update{MemberState::kAlive, m, s.incarnation, m, s.meta, s.credential, s.record_sig});
    }
    stale_.clear();
    if (!fix.updates.empty()) Send(from, std::move(fix), /*piggyback=*/false);
  }

  switch (msg.type) {
    case MessageType::kPing: {
      Message ack;
      ack.type = MessageType::kAck;
      ack.seq = msg.seq;
      ack.target = self_;
      Send(from, std::move(ack));
      break;
    }
    case MessageType::kPingReq: {
      if (msg.target == self_) {
        Message ack;
        ack.type = MessageType::kAck;
        ack.seq = msg.seq;
        ack.target = self_;
        Send(from, std::move(ack));
        break;
      }
      if (relays_.size() >= cfg_.relays_max) return Reject("relay_table_full");
      const uint32_t seq = next_seq_++;
      relays_.push_back(Relay{seq, msg.seq, from, msg.target, now + cfg_.probe_timeout});
      Message ping;
      ping.type = MessageType::kPing;
      ping.seq = seq;
      ping.target = msg.target;
      Send(msg.target, std::move(ping));
      break;
    }
    case MessageType::kAck:
      HandleAck(from, msg, now);
      break;
    case MessageType::kNack:
      if (probe_.active && msg.seq == probe_.seq &&
          std::find(probe_.helpers.begin(), probe_.helpers.end(), from) != probe_.helpers.end() &&
          std::find(probe_.nacked.begin(), probe_.nacked.end(), from) == probe_.nacked.end()) {
        probe_.nacked.push_back(from);
        if (cfg_.adaptive_weights) RaiseWeight(from);
      }
      break;
    case MessageType::kGossip:
      break;
    case MessageType::kSync:
      SendState(from, MessageType::kSyncReply, false);
      break;
    case MessageType::kSyncReply:
      if (joining_) {
        joining_ = false;
        join_status_ = absl::OkStatus();
      }
      if (from_dead_reconnect) {
        // A member we hold dead answered: push our full state so both sides
        // learn (and refute) what the other believed during the split.
        reconnect_target_.reset();
        SendState(from, MessageType::kSync, false);
      }
      break;
  }
}

void Swim::OnTick(Nanos now) {
  EnsureStarted(now);
  if (joining_) {
    if (now - join_started_ >= cfg_.join_timeout) {
      joining_ = false;
      std::string seeds;
      for (MemberId s : join_seeds_) absl::StrAppend(&seeds, seeds.empty() ? "" : ",", s);
      join_status_ = absl::DeadlineExceededError(
          absl::StrCat("join: no seed answered within join_timeout=", ToSeconds(cfg_.join_timeout),
                       "s (seed member ids: ", seeds, ")"));
    } else if (now >= next_join_at_) {
      for (MemberId s : join_seeds_) SendState(s, MessageType::kSync, true);
      next_join_at_ = now + cfg_.join_retry_interval;
    }
  }
  if (!leaving_) {
    if (probe_.active && !probe_.indirect_sent && now >= probe_.indirect_at) SendIndirect(now);
    if (probe_.active && now >= probe_.end) FinishProbe(false, now);
    if (!probe_.active && now >= next_probe_at_) StartProbe(now);
  }
  for (size_t i = 0; i < relays_.size();) {
    if (relays_[i].deadline <= now) {
      if (cfg_.lifeguard) {
        Message nack;
        nack.type = MessageType::kNack;
        nack.seq = relays_[i].orig_seq;
        nack.target = relays_[i].target;
        Send(relays_[i].requester, std::move(nack));
      }
      relays_[i] = relays_.back();
      relays_.pop_back();
    } else {
      ++i;
    }
  }
  ExpireSuspicions(now);
  if (!queue_.empty() && now >= next_gossip_at_) {
    GossipRound(now);
    next_gossip_at_ = now + cfg_.gossip_interval;
  }
  if (!leaving_ && now >= next_push_pull_at_) {
    if (auto peer = RandomMember(false, {})) SendState(*peer, MessageType::kSync, false);
    next_push_pull_at_ = now + PushPullInterval();
  }
  if (!leaving_ && now >= next_reconnect_at_) {
    if (Count(MemberState::kDead) > 0) {
      if (auto peer = RandomMember(true, {})) {
        // Small probe: our own entry only; a reply means the member is back.
        Message m;
        m.type = MessageType::kSync;
        m.target = *peer;
        m.updates.push_back(SelfRecord());
        reconnect_target_ = *peer;
        Send(*peer, std::move(m), false);
      }
    }
    next_reconnect_at_ = now + cfg_.reconnect_interval;
  }
  if (now >= next_bucket_prune_) {
    const double refill = cfg_.peer_messages_per_second_max;
    absl::erase_if(buckets_, [&](const auto& kv) {
      return kv.second.tokens + ToSeconds(now - kv.second.last) * refill >= cfg_.peer_messages_burst;
    });
    next_bucket_prune_ = now + Seconds(10);
  }
}

Nanos Swim::NextDeadline() const {
  if (!started_) return 0;
  Nanos t = std::numeric_limits<Nanos>::max();
  if (joining_) t = std::min({t, next_join_at_, join_started_ + cfg_.join_timeout});
  if (!leaving_) {
    t = std::min({t, next_probe_at_, next_push_pull_at_});
    if (probe_.active) t = std::min(t, probe_.indirect_sent ? probe_.end : probe_.indirect_at);
    if (Count(MemberState::kDead) > 0) t = std::min(t, next_reconnect_at_);
  }
  // While leaving, only gossip (below) needs ticks; LeaveDone(now) is polled.
  for (const Relay& r : relays_) t = std::min(t, r.deadline);
  if (!suspicions_.empty()) t = std::min(t, SuspicionMin());
  if (!queue_.empty()) t = std::min(t, next_gossip_at_);
  return t;
}

std::optional<MemberView> Swim::Get(MemberId id) const {
  if (id >= slots_.size() || !slots_[id].meta) return std::nullopt;
  const Slot& s = slots_[id];
  return MemberView{id, s.state, s.incarnation, s.meta, s.adm, s.weight_q / 65535.0};
}

std::vector<MemberView> Swim::Members() const {
  std::vector<MemberView> out;
  for (MemberId id = 0; id < slots_.size(); ++id)
    if (auto v = Get(id)) out.push_back(*v);
  return out;
}

}  // namespace swarm::membership
