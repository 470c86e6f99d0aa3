#include "membership/support/sim_cluster.h"

#include <limits>

#include "absl/strings/str_cat.h"

namespace swarm::membership {
namespace {

constexpr Nanos kNever = std::numeric_limits<Nanos>::max();

uint64_t Mix(uint64_t a, uint64_t b, uint64_t c) {
  Rng r(a ^ (b * 0x9e3779b97f4a7c15ULL) ^ (c * 0xc2b2ae3d27d4eb4fULL));
  return r.Next();
}

}  // namespace

SimCluster::SimCluster(const ClusterOptions& opt)
    : opt_(opt), authority_(Mix(opt.seed, 0x5157, 0)), sim_(opt.seed, opt.nodes, this), scheduled_(opt.nodes, kNever),
      timer_gen_(opt.nodes, 0), restarts_(opt.nodes, 0) {
  const Status st = opt.link.Validate();
  SWARM_ASSERT(st.ok());
  sim_.links().SetDefault(opt.link);
  metas_.reserve(opt.nodes);
  for (uint32_t i = 0; i < opt.nodes; ++i) {
    Metadata m;
    if (opt.metadata) {
      m = opt.metadata(i);
    } else {
      m.region = absl::StrCat("r", i % 3);
      m.address = absl::StrCat("sim:", i);
    }
    metas_.push_back(std::make_shared<const Metadata>(std::move(m)));
    std::optional<Admission> a;
    if (opt.admission) {
      a = opt.admission(i);
    } else {
      a = Admission{1.0f, absl::StrCat("r", i % 3), absl::StrCat("op", i), absl::StrCat("sim:", i),
                    kRoleExpertHost};
    }
    admitted_.push_back(a.has_value());
    credentials_.push_back(a ? authority_.Issue(i, *a) : authority_.Bogus(i, Mix(opt.seed, i, 7)));
  }
  nodes_.resize(opt.nodes);
  if (opt.bootstrap_full) {
    SWARM_ASSERT(opt.late_joiners < opt.nodes);
    const uint32_t initial = opt.nodes - opt.late_joiners;
    for (uint32_t i = 0; i < initial; ++i) nodes_[i] = MakeNode(i);
    for (uint32_t i = 0; i < initial; ++i) {
      for (uint32_t j = 0; j < initial; ++j)
        if (j != i && admitted_[j]) SWARM_ASSERT(nodes_[i]->AddKnownMember(nodes_[j]->SelfRecord()).ok());
    }
    for (uint32_t i = 0; i < initial; ++i) Flush(i);
  } else if (opt.nodes > 0) {
    nodes_[0] = MakeNode(0);
    Flush(0);
  }
}

std::unique_ptr<Swim> SimCluster::MakeNode(uint32_t i) {
  auto s = std::make_unique<Swim>(i, *metas_[i], credentials_[i], opt_.config, Mix(opt_.seed, i, restarts_[i]),
                                  &authority_);
  s->SetObserver(observer_);
  return s;
}

void SimCluster::SetObserver(Observer* o) {
  observer_ = o;
  for (auto& n : nodes_)
    if (n) n->SetObserver(o);
}

Status SimCluster::StartJoin(uint32_t i, std::span<const MemberId> seeds) {
  if (!nodes_[i]) nodes_[i] = MakeNode(i);
  Status st = nodes_[i]->Join(seeds, sim_.now());
  Flush(i);
  return st;
}

void SimCluster::Flush(uint32_t i) {
  Swim* s = nodes_[i].get();
  if (!s) return;
  if (s->HasOutbox()) {
    for (auto& out : s->TakeOutbox()) sim_.Send(i, out.to, std::move(out.msg));
  }
  Nanos d = s->NextDeadline();
  if (d == kNever) return;
  d = std::max(d, sim_.now());
  if (d < scheduled_[i]) {
    scheduled_[i] = d;
    sim_.SetTimer(i, d, ++timer_gen_[i]);
  }
}

void SimCluster::OnDeliver(sim::NodeId to, sim::NodeId from, Message&& msg) {
  Swim* s = nodes_[to].get();
  if (!s) return;
  if (tap_) tap_(to, from, msg);
  s->OnMessage(from, msg, sim_.now());
  Flush(to);
}

void SimCluster::OnTimer(sim::NodeId node, uint32_t tag) {
  if (tag != timer_gen_[node]) return;  // superseded by an earlier timer
  Swim* s = nodes_[node].get();
  scheduled_[node] = kNever;
  if (!s) return;
  const Nanos now = sim_.now();
  s->OnTick(now);
  if (s->HasOutbox()) {
    for (auto& out : s->TakeOutbox()) sim_.Send(node, out.to, std::move(out.msg));
  }
  Nanos d = s->NextDeadline();
  if (d == kNever) return;
  // Something still due right now would spin; Swim handles everything due in
  // one OnTick, so this only guards against a bug turning into a hang.
  if (d <= now) d = now + Millis(1);
  scheduled_[node] = d;
  sim_.SetTimer(node, d, ++timer_gen_[node]);
}

void SimCluster::OnCrash(sim::NodeId node) {
  if (nodes_[node]) Add(retired_, nodes_[node]->counters());
  nodes_[node].reset();
  scheduled_[node] = kNever;
}

void SimCluster::OnRestart(sim::NodeId node) {
  ++restarts_[node];
  std::vector<MemberId> seeds = restart_seeds_;
  if (seeds.empty()) {
    for (uint32_t j = 0; j < size() && seeds.size() < 3; ++j)
      if (j != node && nodes_[j]) seeds.push_back(j);
  }
  nodes_[node] = MakeNode(node);
  scheduled_[node] = kNever;
  if (!seeds.empty()) (void)nodes_[node]->Join(seeds, sim_.now());
  Flush(node);
}

void SimCluster::Add(Counters& into, const Counters& c) {
  for (int t = 0; t < kMessageTypeCount; ++t) {
    into.sent[t] += c.sent[t];
    into.received[t] += c.received[t];
  }
  into.messages_sent += c.messages_sent;
  into.updates_sent += c.updates_sent;
  into.probes += c.probes;
  into.probe_failures += c.probe_failures;
  into.suspicions += c.suspicions;
  into.refutations += c.refutations;
  into.deaths += c.deaths;
  into.rejected_total += c.rejected_total;
  for (const auto& [k, v] : c.rejected) into.rejected[k] += v;
}

Counters SimCluster::TotalCounters() const {
  Counters total = retired_;
  for (const auto& n : nodes_)
    if (n) Add(total, n->counters());
  return total;
}

}  // namespace swarm::membership
