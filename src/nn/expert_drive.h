// A small load driver for experts hosted on a swarm (torch-free, library
// swarm_nn_remote): learns y = -x on every expert through the remote
// Forward/Backward path, the way a trainer would, and reports fail-overs,
// masked experts and the loss. Used by `swarm experts drive` and the e2e test.
//
// Owners come from the swarm itself: every refresh_ms the driver asks the
// peers in `peers` (Node.Info, first that answers) for their status JSON and
// maps ring.owners (member ids) to gRPC addresses through members[]; dead
// members are left out. An expert whose replicas all fail in a step is
// "masked" for that step (counted; the step goes on with the others).
// Thread-safety: DriveExperts is reentrant; it runs its own threads.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/status.h"
#include "nn/remote_experts.h"

namespace swarm::nn {

struct DriveOptions {
  std::vector<std::string> peers;  // gRPC addresses to ask for the ring
  std::vector<uint32_t> experts;   // expert ids to drive
  int64_t d_model = 64;
  int64_t batch = 32;              // tokens per expert per step
  int64_t steps = 20;              // 0 = until `seconds` elapsed
  double seconds = 0;              // 0 = no time limit
  Nanos refresh = Millis(500);     // ring refresh period
  uint64_t seed = 1;
  RemoteExpertOptions remote;      // deadline, wire dtype...
  // Evaluation only: != 0 makes this a rogue caller whose every Backward
  // sends dL/dy = rogue_grad everywhere (backward_failed counts refusals).
  double rogue_grad = 0;
  Status Validate() const;
};

struct DriveReport {
  int64_t steps = 0;
  int64_t expert_steps = 0;      // (expert, step) pairs attempted
  int64_t masked = 0;            // pairs whose Forward failed on every replica
  int64_t backward_failed = 0;   // pairs whose Backward no replica applied
  int64_t max_consecutive_masked = 0;  // longest run of masked steps of one expert
  int64_t failovers = 0;
  std::map<std::string, int64_t> failures;  // by reason
  double loss_first = 0, loss_last = 0;      // mean over experts answering
  double seconds = 0;
  double tokens_per_second = 0;  // forward+backward tokens through experts
  nlohmann::json ToJson() const;
};

// Parses a status JSON (as Node.Info returns) into expert id -> addresses.
std::map<uint32_t, std::vector<std::string>> OwnersFromStatus(const nlohmann::json& status);

// Errors: InvalidArgument (options), Unavailable (no peer answered Node.Info
// before the first step).
StatusOr<DriveReport> DriveExperts(const DriveOptions& options);

}  // namespace swarm::nn
