#include "membership/config.h"

#include <cmath>

namespace swarm::membership {
namespace {

Status Bad(const char* field, double value, const char* rule) {
  return absl::InvalidArgumentError(
      absl::StrCat("membership config: ", field, "=", value, " ", rule));
}

}  // namespace

Status Config::Validate() const {
  if (probe_interval <= 0) return Bad("probe_interval_ns", probe_interval, "must be > 0");
  if (probe_timeout <= 0 || probe_timeout >= probe_interval)
    return Bad("probe_timeout_ns", probe_timeout, "must be > 0 and < probe_interval");
  if (indirect_probes > 16) return Bad("indirect_probes", indirect_probes, "must be <= 16");
  if (!(suspicion_mult >= 0.1 && suspicion_mult <= 100)) return Bad("suspicion_mult", suspicion_mult, "must be in [0.1,100]");
  if (!(suspicion_max_mult >= 1 && suspicion_max_mult <= 100))
    return Bad("suspicion_max_mult", suspicion_max_mult, "must be in [1,100]");
  if (suspicion_confirmations > 32) return Bad("suspicion_confirmations", suspicion_confirmations, "must be <= 32");
  if (health_max > 64) return Bad("health_max", health_max, "must be <= 64");
  if (!(retransmit_mult > 0 && retransmit_mult <= 100)) return Bad("retransmit_mult", retransmit_mult, "must be in (0,100]");
  if (gossip_interval <= 0) return Bad("gossip_interval_ns", gossip_interval, "must be > 0");
  if (fanout_min < 1 || fanout_min > fanout_max || fanout_max > 64)
    return Bad("fanout_min", fanout_min, "must satisfy 1 <= fanout_min <= fanout_max <= 64");
  if (!(fanout_gain >= 0 && fanout_gain <= 100)) return Bad("fanout_gain", fanout_gain, "must be in [0,100]");
  if (!(fanout_ewma_alpha > 0 && fanout_ewma_alpha <= 1)) return Bad("fanout_ewma_alpha", fanout_ewma_alpha, "must be in (0,1]");
  if (piggyback_updates_max < 1 || piggyback_updates_max > 256)
    return Bad("piggyback_updates_max", piggyback_updates_max, "must be in [1,256]");
  if (broadcast_queue_max < 1) return Bad("broadcast_queue_max", broadcast_queue_max, "must be >= 1");
  if (!(weight_min > 0 && weight_min <= weight_initial && weight_initial <= 1))
    return Bad("weight_initial", weight_initial, "must satisfy 0 < weight_min <= weight_initial <= 1");
  if (!(weight_rise > 0 && weight_rise <= 1)) return Bad("weight_rise", weight_rise, "must be in (0,1]");
  if (!(weight_decay > 0 && weight_decay < 1)) return Bad("weight_decay", weight_decay, "must be in (0,1)");
  if (weight_tournament < 1 || weight_tournament > 64) return Bad("weight_tournament", weight_tournament, "must be in [1,64]");
  if (push_pull_interval <= 0) return Bad("push_pull_interval_ns", push_pull_interval, "must be > 0");
  if (reconnect_interval <= 0) return Bad("reconnect_interval_ns", reconnect_interval, "must be > 0");
  if (join_retry_interval <= 0) return Bad("join_retry_interval_ns", join_retry_interval, "must be > 0");
  if (join_timeout <= 0) return Bad("join_timeout_ns", join_timeout, "must be > 0");
  if (leave_timeout <= 0) return Bad("leave_timeout_ns", leave_timeout, "must be > 0");
  if (sync_updates_per_message_max < 3 || sync_updates_per_message_max > 4096)
    return Bad("sync_updates_per_message_max", sync_updates_per_message_max, "must be in [3,4096] (own record + a record + its claim)");
  if (!(peer_messages_per_second_max > 0)) return Bad("peer_messages_per_second_max", peer_messages_per_second_max, "must be > 0");
  if (!(peer_messages_burst >= 1)) return Bad("peer_messages_burst", peer_messages_burst, "must be >= 1");
  if (members_max < 2 || members_max > (1u << 24)) return Bad("members_max", members_max, "must be in [2,16777216]");
  if (relays_max < 1) return Bad("relays_max", relays_max, "must be >= 1");
  if (incarnation_jump_max < 1) return Bad("incarnation_jump_max", incarnation_jump_max, "must be >= 1");
  return absl::OkStatus();
}

}  // namespace swarm::membership
