// The PBFT replicas' simulation driver (tests only), on sim::Simulator.
//
// The network, the timers (one tick per replica), client submissions and
// retries, crashes and restarts and partitions all run in one
// sim::Simulator<shared_ptr<const Message>>: one thread, virtual time, one
// seeded Rng (the simulator's, shared with this driver's own choices), so the
// same options and seed replay exactly the same run. Before GST the links
// lose and duplicate messages and random two-way partitions come and go (the
// last heals at GST); every delay is bounded (uniform between delay_min and
// delay_max), so after GST the network is synchronous. Honest replicas crash
// and restart from the durable state saved at the crash (through its storage
// codec); up to f Byzantine replicas behave as below. Checked:
//   - agreement, after every delivered event: no two honest replicas commit
//     different batches at one sequence number;
//   - validity, at every commit: an applied request is one a client
//     submitted, byte for byte (only a Byzantine primary may add requests,
//     and never under a client's id);
//   - liveness after GST: within `horizon` every client request is committed
//     and every honest replica executed everything committed anywhere;
//   - at the end: equal application states at equal sequence numbers, and
//     each client request applied exactly once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "consensus/replica.h"

namespace swarm::consensus::sim {

enum class Behavior {
  kSilent,           // sends nothing
  kEquivocate,       // conflicting pre-prepares / prepares / commits / checkpoints to different peers
  kDelay,            // every message delayed by up to 1.5 s
  kReplay,           // resends old messages (its own and others') to random peers
  kForge,            // claims other signers, tampers fields and signatures, fabricates certificates
  kConflictingViewChange,  // view changes for random views, different ones to different peers,
                           // and two different (valid) new-views when primary
  kMixed,            // each message handled by a random one of the above
};
const char* BehaviorName(Behavior b);

struct SimOptions {
  uint64_t seed = 1;
  uint32_t n = 4;
  std::vector<Behavior> byzantine;  // replicas offset..offset+size-1 are Byzantine
  uint32_t byzantine_offset = 0;    // 0: the first primary (view 0) is Byzantine
  int requests = 6;
  double loss = 0.05;          // before GST
  double duplicate = 0.02;     // before GST
  Nanos delay_min = Millis(1);
  Nanos delay_max = Millis(15);
  Nanos gst = Seconds(1.5);
  bool partitions = false;     // random partitions before GST, healed at GST
  int crashes = 0;             // honest replicas crashed (and restarted) before GST
  bool codec = false;          // pass every message through the protobuf codec
  Nanos tick = Millis(10);
  Nanos horizon = Seconds(90);  // liveness deadline after GST
  ReplicaConfig replica;       // n and self are overwritten
};

struct SimResult {
  bool ok = false;
  std::string failure;         // empty when ok
  uint64_t events = 0;
  Nanos finished_at = 0;
  SeqNumber max_committed = 0;
  uint64_t view_changes = 0;
  uint64_t state_transfers = 0;
  uint64_t dropped = 0;        // over honest replicas, all reasons
  uint64_t forked_new_views = 0;  // a Byzantine primary sent two different valid new-views
  ReplicaCounters honest_counters;  // summed over honest replicas
};

// Options used by the sim tests: small K and window so checkpoints, garbage
// collection and watermarks are exercised with few requests.
ReplicaConfig SimReplicaConfig();

SimResult RunSimulation(const SimOptions& options);

}  // namespace swarm::consensus::sim
