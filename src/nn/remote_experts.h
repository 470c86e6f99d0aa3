// Trainer side of remote experts: an ExpertClient (nn/expert_client.h) that
// calls swarm.v1.ExpertService (proto/swarm/v1/expert.proto) over gRPC on the
// peers hosting one expert, with fail-over between replicas. Torch-free
// (library swarm_nn_remote: gRPC + protobuf + the tensor codec).
//
//   auto client = MakeGrpcExpertClient(3, [&] { return ring_owners_of(3); }, opts);
//   auto expert = nn::MakeRemoteExpert(client);   // torch adapter, nn/expert.h
//
// Forward(x): asks owners() (called on every call, so the ring's current view
// is used; primary first, except that replicas which failed within
// failed_replica_cooldown go last) and tries each replica in order, each attempt with
// its own deadline (call_deadline); the first OK answer wins. An error, a late
// answer or a malformed reply (wrong shape, NaN/Inf, bad bytes) moves on to
// the next replica and counts a fail-over. If every replica failed the Status
// is Unavailable naming each address and its error; the MoE layer then masks
// the expert for the batch.
// Backward(x, grad_out): tagged with options.round() and options.trainer; sent to every replica in the same order (so replicas
// that started equal stay equal, each applying the same gradient) — in
// parallel; the returned dL/dx is the first successful replica's (in owner
// order). Fails only if no replica applied it.
// Replicas that apply Backward out of order across concurrent trainers drift
// apart; the host's replica-agreement metric measures that.
//
// Errors are absl::Status: InvalidArgument for a bad input tensor (never sent),
// Unavailable when no replica answered. Never throws.
// Thread-safety: the client is thread-safe (Forward and Backward may run
// concurrently from several threads). `owners` must be thread-safe too.
// Channels are cached per address inside the client and live as long as it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "nn/expert_client.h"
#include "nn/tensor_codec.h"

namespace grpc {
class Channel;
}

namespace swarm::nn {

// A spot-check mismatch: two replicas of one expert answered the same Forward
// input with outputs that differ beyond the tolerance. Evidence for the
// committee (exclusion is its business): the input's SHA3-256, both replicas'
// addresses and raw reply bytes (tensor codec), and the largest difference.
// The replies are not signed yet (RPC authentication, node/call_guard.h, adds
// the signed response); until then they prove nothing to a third party.
struct SpotCheckEvidence {
  uint32_t expert = 0;
  std::string input_sha3_hex;   // SHA3-256 of the request's x bytes
  std::string replica_a, replica_b;
  std::string reply_a, reply_b;  // tensor-codec bytes as received
  double max_abs_diff = 0;
  size_t element = 0;            // where the largest excess over tolerance is
};

// Makes (or returns a cached) channel to "host:port" — e.g. node::Node::ChannelTo
// so that the node's TLS settings apply. Must be thread-safe.
using ChannelFactory = std::function<std::shared_ptr<grpc::Channel>(const std::string& address)>;

// Named limits.
constexpr int kExpertAttemptsPerReplicaMax = 5;
constexpr uint64_t kExpertMessageSizeBytesDefault = 64ull << 20;

struct RemoteExpertOptions {
  Nanos call_deadline = Millis(2000);  // per attempt, per replica
  int attempts_per_replica = 1;        // 1..kExpertAttemptsPerReplicaMax
  std::string wire_dtype = "f32";      // f32 | f16 | int8 (requests and replies)
  size_t message_bytes_max = kExpertMessageSizeBytesDefault;  // send and receive
  size_t replicas_max = 8;             // owners beyond this are ignored
  // A replica whose Forward failed is tried after the others for this long
  // (so a dead primary costs one failed attempt, not one per call).
  Nanos failed_replica_cooldown = Millis(1000);
  // Optional; default: an insecure channel per address (cached by the client)
  // honouring message_bytes_max.
  ChannelFactory channel_for;
  // Per-round expert updates: every Backward carries round() (the trainer's
  // current training round; nullptr or 0 = untagged, which a host with
  // experts.update = "round" refuses) and `trainer` (this trainer's name).
  std::function<uint64_t()> round;
  std::string trainer;
  // Evaluation only (a Byzantine trainer, train/attack.h on the expert path):
  // rewrites dL/dy before it is sent (the host's dL/dparams is linear in it,
  // so sign_flip x100 on dL/dy is sign_flip x100 on the parameter gradient).
  std::function<void(uint32_t expert, HostTensor& grad_out)> craft_grad_out;
  // Evaluation only: after each Backward, send the same request again to
  // every replica (a replayed call), and every `oversized_every` rounds one
  // call with tokens_max_guess + 1 tokens (an oversized call). Both must be
  // refused by an honest host; their outcome is counted in `byzantine_*`.
  bool byzantine_replay = false;
  // Spot checks of forward outputs (issue 13 item 5): this share of Forward
  // calls (0..1, seeded by spot_check_seed) is also sent to a second replica
  // and the outputs compared elementwise: |a - b| <= atol + rtol * |b| holds
  // for every element, or it is a mismatch (counted; on_mismatch gets the
  // evidence). The defaults tolerate float non-determinism and f16/int8
  // wire rounding only where set by the caller; replicas that drift apart
  // (missed rounds) also differ: measure the false-positive rate first.
  double spot_check_share = 0;
  double spot_check_rtol = 1e-3, spot_check_atol = 1e-4;
  uint64_t spot_check_seed = 1;
  std::function<void(const SpotCheckEvidence&)> on_mismatch;
  uint64_t oversized_every = 0;  // 0 = never
  int64_t tokens_max_guess = 65536;

  // InvalidArgument naming the field and value (attempts out of range,
  // unknown wire_dtype, zero deadline or limits).
  Status Validate() const;
};

// Parses "f32" | "f16" | "int8"; the error lists the valid names.
StatusOr<WireDtype> ParseWireDtype(const std::string& name);
const char* WireDtypeName(WireDtype d);

// Failure reasons counted by the client (and used as metric label values):
//   "deadline"    the replica did not answer within call_deadline
//   "unavailable" connection refused / peer down
//   "rejected"    the host refused the request (bad tensor, unknown expert...)
//   "bad_reply"   the reply failed decoding or had the wrong shape
//   "error"       any other gRPC error
//   "no_owner"    owners() returned no address
inline constexpr const char* kExpertFailureReasons[] = {"deadline", "unavailable", "rejected",
                                                        "bad_reply", "error", "no_owner"};

// Counters readable while calls run (for the caller's metrics). Shared by
// every client that is given the same object.
struct RemoteExpertCounters {
  std::atomic<int64_t> forward_calls{0}, forward_ok{0};
  std::atomic<int64_t> backward_calls{0}, backward_ok{0};
  // A replica attempt failed and the next replica was tried (Forward), or a
  // Backward replica failed while another applied it.
  std::atomic<int64_t> failovers{0};
  // Calls where no replica answered (the expert gets masked).
  std::atomic<int64_t> forward_failed{0}, backward_failed{0};
  // Per-attempt failures by reason (index into kExpertFailureReasons).
  std::atomic<int64_t> failures[6] = {};
  std::atomic<int64_t> bytes_sent{0}, bytes_received{0};
  // Byzantine evaluation: replayed / oversized calls sent, and how many of
  // them a host accepted (an honest host accepts none).
  std::atomic<int64_t> byzantine_replays{0}, byzantine_oversized{0}, byzantine_accepted{0};
  // Spot checks: Forward calls re-asked of a second replica, how many of
  // those answered, and how many differed beyond the tolerance.
  std::atomic<int64_t> spot_checks{0}, spot_checks_answered{0}, spot_check_mismatches{0};

  // reason name -> count (all six names, zeros included).
  std::map<std::string, int64_t> FailuresByReason() const;
};

// `owners` returns the hosts' gRPC addresses for `expert_id`, primary first.
// `counters` may be nullptr (the client then counts into a private object).
// Never null. With options that fail Validate() every call returns that
// InvalidArgument error (validate first to report it early).
std::shared_ptr<ExpertClient> MakeGrpcExpertClient(
    uint32_t expert_id, std::function<std::vector<std::string>()> owners,
    RemoteExpertOptions options, std::shared_ptr<RemoteExpertCounters> counters = nullptr);

// Host information as returned by ExpertService.Info on one peer.
struct ExpertHostInfo {
  struct Expert {
    uint32_t id = 0;
    int64_t d_model = 0, hidden = 0;
    int64_t steps_applied = 0;  // Backward calls applied
    int64_t forwards = 0;
  };
  std::vector<Expert> experts;
  std::map<std::string, int64_t> rejected;  // reason -> count on this host
};
// One Info call to `address`. Errors: the gRPC status as an absl::Status.
StatusOr<ExpertHostInfo> QueryExpertHost(const std::string& address, Nanos deadline,
                                         const ChannelFactory& channel_for = {});
// Fetches expert `expert_id`'s flattened parameters from `address`
// (GetParameters), decoded with the strict codec.
StatusOr<HostTensor> FetchExpertParameters(const std::string& address, uint32_t expert_id,
                                           Nanos deadline, const ChannelFactory& channel_for = {},
                                           uint64_t message_bytes_max = kExpertMessageSizeBytesDefault);
// An insecure channel to `address` whose send/receive limits are `message_bytes_max`.
std::shared_ptr<grpc::Channel> MakeExpertChannel(const std::string& address,
                                                 uint64_t message_bytes_max);

}  // namespace swarm::nn
