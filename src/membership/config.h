// Every parameter of the SWIM state machine, with its default and limit.
// Times are virtual or real Nanos, as given to Swim::OnTick. Validate() names
// the field and value of the first bad parameter.
#pragma once

#include <cstdint>

#include "common/clock.h"
#include "common/status.h"

namespace swarm::membership {

struct Config {
  // --- failure detection (SWIM) ---
  Nanos probe_interval = Seconds(1);        // protocol period T
  Nanos probe_timeout = Millis(500);        // direct ack wait before ping-req
  uint32_t indirect_probes = 3;             // k helpers asked to ping-req
  // --- suspicion (Lifeguard) ---
  // min = suspicion_mult * log10(max(n,10)) * T; max = suspicion_max_mult * min;
  // the timeout falls from max to min as independent confirmations arrive
  // (log(c+1)/log(K+1), K = suspicion_confirmations). Without Lifeguard it is min.
  double suspicion_mult = 4.0;
  double suspicion_max_mult = 6.0;
  uint32_t suspicion_confirmations = 3;     // K, capped by confirmations_max below
  // --- local health awareness (Lifeguard) ---
  uint32_t health_max = 8;                  // probe interval/timeout scale by (1 + health)
  // --- dissemination ---
  double retransmit_mult = 3.0;             // each update is sent ceil(λ·log10(n+1)) times
  Nanos gossip_interval = Millis(200);      // dedicated gossip while updates are pending
  uint32_t fanout_min = 2;                  // gossip targets per gossip round
  uint32_t fanout_max = 6;
  double fanout_gain = 0.5;                 // extra targets per new update/round (EWMA)
  double fanout_ewma_alpha = 0.3;
  uint32_t piggyback_updates_max = 8;       // updates per ping/ack/gossip message
  uint32_t broadcast_queue_max = 8192;      // pending updates kept; oldest-most-sent dropped
  // --- adaptive link weights ---
  double weight_initial = 0.5;
  double weight_rise = 0.2;                 // w += rise·(1−w) on a timely ack
  double weight_decay = 0.5;                // w *= decay on a time-out
  double weight_min = 0.02;
  uint32_t weight_tournament = 4;           // candidates drawn per weighted pick
  // --- anti-entropy and join ---
  Nanos push_pull_interval = Seconds(30);   // × ceil(log2(n/32)) beyond 32 members
  Nanos reconnect_interval = Seconds(5);    // sync with a random dead member (heals partitions)
  Nanos join_retry_interval = Seconds(1);
  Nanos join_timeout = Seconds(10);
  Nanos leave_timeout = Seconds(5);
  uint32_t sync_updates_per_message_max = 512;
  // --- rate limit of inbound messages per peer (token bucket) ---
  double peer_messages_per_second_max = 50.0;
  double peer_messages_burst = 100.0;
  // --- named limits ---
  uint32_t members_max = 1u << 20;          // largest member index accepted
  uint32_t relays_max = 256;                // concurrent ping-req relays
  // An update more than this above the incarnation we know for that member
  // (or our own) is ignored and counted as `incarnation_jump`: only forgery
  // produces such jumps, and they would exhaust the 32-bit incarnation space.
  uint32_t incarnation_jump_max = 1u << 16;
  // --- switches for the comparison tests ---
  bool lifeguard = true;        // local health, confirmation-shortened suspicion, nacks
  bool adaptive_weights = true; // link weights bias gossip targets and ping-req helpers
  bool adaptive_fanout = true;  // fanout follows the rate of new updates
  bool rate_limit = true;       // per-peer inbound token bucket

  Status Validate() const;
};

}  // namespace swarm::membership
