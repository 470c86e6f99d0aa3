// A tiny synchronous in-process cluster for unit tests: messages are
// delivered FIFO without loss; a filter can cut links. Not the simulator.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "consensus/replica.h"

namespace swarm::consensus::testing {

class CounterMachine final : public StateMachine {
 public:
  void Apply(SeqNumber, const Request& r) override {
    log.push_back(r);
  }
  Bytes Snapshot() override {
    Bytes b;
    for (const auto& r : log) {
      b.push_back(static_cast<uint8_t>(r.client));
      b.push_back(static_cast<uint8_t>(r.client_seq));
      b.insert(b.end(), r.payload.begin(), r.payload.end());
      b.push_back(0xff);
    }
    return b;
  }
  Status Restore(ByteSpan s) override {
    log.clear();
    size_t i = 0;
    while (i < s.size()) {
      if (i + 2 > s.size()) return absl::InvalidArgumentError("truncated");
      Request r{s[i], s[i + 1], {}};
      i += 2;
      while (i < s.size() && s[i] != 0xff) r.payload.push_back(s[i++]);
      if (i >= s.size()) return absl::InvalidArgumentError("unterminated");
      ++i;
      log.push_back(std::move(r));
    }
    return absl::OkStatus();
  }
  std::vector<Request> log;
};

struct Cluster {
  explicit Cluster(uint32_t n, ReplicaConfig base = {}) {
    const auto keys = KeyedHashAuthenticator::DeriveKeys(n, 42);
    for (uint32_t i = 0; i < n; ++i) {
      auths.push_back(std::make_unique<KeyedHashAuthenticator>(ReplicaId(i), keys));
      machines.push_back(std::make_unique<CounterMachine>());
      base.n = n;
      base.self = ReplicaId(i);
      configs.push_back(base);
      auto r = Replica::Create(base, auths[i].get(), machines[i].get());
      SWARM_ASSERT(r.ok());
      replicas.push_back(std::move(r).value());
    }
  }

  // Collects every replica's Ready into the queue.
  void Collect() {
    for (uint32_t i = 0; i < replicas.size(); ++i) {
      Ready r = replicas[i]->TakeOutbox();
      for (auto& e : r.committed) committed[i].push_back(e.seq);
      for (auto& out : r.messages) {
        if (auto* nv = std::get_if<Signed<NewView>>(&out.message)) new_views.push_back(*nv);
        for (uint32_t j = 0; j < replicas.size(); ++j) {
          if (j == i || (out.to && out.to->value() != j)) continue;
          queue.push_back({i, j, out.message});
        }
      }
    }
  }

  // Delivers until quiet (or `max` messages).
  void Run(size_t max = 1'000'000) {
    Collect();
    while (!queue.empty() && max-- > 0) {
      auto [from, to, m] = std::move(queue.front());
      queue.pop_front();
      if (!link || link(from, to)) {
        replicas[to]->OnMessage(ReplicaId(from), m);
        ++delivered;
      }
      Collect();
    }
  }

  void Tick(Nanos dt) {
    now += dt;
    for (auto& r : replicas) r->OnTick(now);
    Run();
  }

  struct InFlight {
    uint32_t from, to;
    Message m;
  };
  std::vector<std::unique_ptr<KeyedHashAuthenticator>> auths;
  std::vector<std::unique_ptr<CounterMachine>> machines;
  std::vector<ReplicaConfig> configs;
  std::vector<std::unique_ptr<Replica>> replicas;
  std::deque<InFlight> queue;
  std::function<bool(uint32_t, uint32_t)> link;
  std::map<uint32_t, std::vector<SeqNumber>> committed;
  std::vector<Signed<NewView>> new_views;  // every new-view sent
  Nanos now = 0;
  uint64_t delivered = 0;
};

}  // namespace swarm::consensus::testing
