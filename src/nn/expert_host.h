// Host side of remote experts (hivemind-DMoE style): the experts this peer
// serves, each with its own parameters and optimizer state. Backward applies
// the parameter gradient it is given with the host's optimizer (per-call
// mode); Gradient + ApplyGradient split that for per-round robust updates
// (train/expert_round.h, driven by node/experts/extension). The header is
// torch-free (pimpl); the implementation uses LibTorch (library swarm_nn_host).
//
// Every replica of expert e initializes its parameters from seed + e with the
// portable generator of common/rng.h, so replicas start bit-identical on every
// peer. Inputs are validated before anything is computed: wrong rank, width
// (d_model), token count (tokens_max) or a non-finite value is rejected with
// InvalidArgument naming the field and value, counted by reason ("oversized"
// for more tokens than tokens_max, "shape", "non_finite"), and never
// applied. A step whose parameter gradient or dL/dx is non-finite is not
// applied (InvalidArgument, counted as "nonfinite_step").
//
// Checkpoints (checkpoint_dir non-empty): parameters, optimizer state and the
// step count of each expert in <checkpoint_dir>/expert-<id>.pt (written to a
// temporary file, then renamed); an expert created later on the same dir
// resumes from its file.
//
// Thread-safety: all methods are thread-safe; calls on one expert are
// serialized by a per-expert mutex, different experts run concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "nn/tensor_codec.h"

namespace swarm::nn {

struct ExpertHostConfig {
  int64_t d_model = 64;
  int64_t hidden = 64;
  int64_t layers = 1;              // hidden layers of the FFN
  std::string optimizer = "adam";  // adam | sgd (with momentum)
  double lr = 1e-3;
  double momentum = 0.9;           // sgd only
  double grad_clip = 0;            // max L2 norm of one step's gradient; 0 = off
  uint64_t seed = 1;               // expert e initializes from seed + e
  int64_t tokens_max = 65536;      // per request
  int64_t experts_max = 1024;      // experts hosted at once
  std::string checkpoint_dir;      // "" = no checkpoints
  Status Validate() const;
};

// Reasons a request is rejected (metric label values): the tensor codec's
// DecodeRejectName values plus these.
inline constexpr const char* kRejectShape = "shape";
inline constexpr const char* kRejectUnknownExpert = "unknown_expert";
inline constexpr const char* kRejectTooManyExperts = "experts_max";
inline constexpr const char* kRejectNonFiniteStep = "nonfinite_step";
inline constexpr const char* kRejectOversized = "oversized";  // more tokens than tokens_max

// What Gradient returns: dL/dx for the caller and dL/dparams (flattened,
// module order) for the host's per-round aggregation.
struct ExpertGradient {
  HostTensor grad_x;
  std::vector<float> params;
};

struct HostedExpertInfo {
  uint32_t id = 0;
  int64_t steps_applied = 0;
  int64_t forwards = 0;
};

class ExpertHost {
 public:
  struct Hooks {
    std::function<void(uint32_t expert, int64_t tokens)> on_activation;  // per Forward
    std::function<void(const std::string& reason)> on_reject;
    // After an expert is created (restored = loaded from a checkpoint), before
    // the request that created it proceeds. May call this host's methods.
    std::function<void(uint32_t expert, bool restored)> on_created;
  };
  // `may_host(id)` decides whether a request naming an expert not yet hosted
  // creates it (e.g. "the ring assigns it to me"); nullptr = never.
  ExpertHost(ExpertHostConfig config, std::function<bool(uint32_t)> may_host, Hooks hooks = {});
  ~ExpertHost();

  // Creates (or loads from checkpoint) expert `id` now.
  Status Host(uint32_t id);
  bool Hosts(uint32_t id) const;

  // y = f(x), x [tokens, d_model]. Errors: InvalidArgument (bad x; counted),
  // NotFound (expert not hosted and may_host says no; counted).
  StatusOr<HostTensor> Forward(uint32_t id, const HostTensor& x);
  // dL/dx for (x, dL/dy), and one optimizer step with dL/dparams.
  StatusOr<HostTensor> Backward(uint32_t id, const HostTensor& x, const HostTensor& grad_y,
                                int64_t* steps_applied = nullptr);
  // Per-round updates (train/expert_round.h drives them from node/): dL/dx
  // and dL/dparams for (x, dL/dy) with the current parameters, nothing
  // applied. Errors as Backward (a non-finite gradient: InvalidArgument,
  // counted "nonfinite_step").
  StatusOr<ExpertGradient> Gradient(uint32_t id, const HostTensor& x, const HostTensor& grad_y);
  // One optimizer step with the flattened gradient (module order), e.g. the
  // robust aggregate of a round. Errors: NotFound, InvalidArgument (size,
  // non-finite value). The experts.grad_clip of Backward does not apply here
  // (the round clipped each contribution).
  Status ApplyGradient(uint32_t id, const std::vector<float>& flat, int64_t* steps_applied = nullptr);
  // Parameters flattened into one [n] tensor (module order).
  StatusOr<HostTensor> Parameters(uint32_t id, int64_t* steps_applied = nullptr);

  // Replaces expert `id`'s parameters (flattened, module order; e.g. fetched
  // from a co-replica) and its step count; the optimizer state is reset.
  // Errors: NotFound, InvalidArgument (wrong size or non-finite values).
  Status SetParameters(uint32_t id, const HostTensor& flat, int64_t steps_applied);
  // True when expert `id` was loaded from a checkpoint when it was created.
  bool WasRestored(uint32_t id) const;

  // Stops hosting expert `id` (e.g. the ring moved it away), after writing
  // its checkpoint. In-flight calls on it finish. NotFound if not hosted.
  Status Release(uint32_t id);

  // Writes every hosted expert's checkpoint (no-op without checkpoint_dir).
  Status Checkpoint();

  std::vector<HostedExpertInfo> Experts() const;
  std::map<std::string, int64_t> Rejected() const;
  // Counts a rejection that happened before the host saw the request (wire decoding).
  void CountReject(const std::string& reason);
  const ExpertHostConfig& config() const { return config_; }

 private:
  class Expert;
  StatusOr<std::shared_ptr<Expert>> Find(uint32_t id, bool create);
  Status CheckInput(const HostTensor& t, const char* field);

  const ExpertHostConfig config_;
  const std::function<bool(uint32_t)> may_host_;
  const Hooks hooks_;
  mutable std::mutex mu_;
  std::map<uint32_t, std::shared_ptr<Expert>> experts_;  // guarded by mu_
  std::map<std::string, int64_t> rejected_;              // guarded by mu_
};

// Cosine similarity of two parameter vectors (replica agreement); 1 when both
// are zero. Errors: different sizes.
StatusOr<double> CosineSimilarity(const HostTensor& a, const HostTensor& b);

}  // namespace swarm::nn
