// PBFT message and certificate types, as plain C++ values.
//
// The replica (consensus/replica.h) consumes and produces these structs; the
// wire format (proto/swarm/v1/consensus.proto) is a separate concern handled by
// consensus/codec.h, and the bytes that signatures cover are produced by
// consensus/canonical.h. Every top-level message travels as Signed<T>: the
// signer's committee index, the body, and the signer's signature over
// CanonicalBytes(body). Certificates embed Signed<T> values of other replicas,
// so a certificate can be checked by anyone who knows the committee's keys.
//
// Thread-safety: plain values; copy freely.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "common/bytes.h"
#include "common/ids.h"
#include "crypto/hash.h"

namespace swarm::consensus {

// Index of a committee member in [0, n).
using ReplicaId = StrongId<struct ReplicaIdTag, uint32_t>;
using ViewNumber = uint64_t;  // view v has primary v mod n
using SeqNumber = uint64_t;   // sequence number assigned by the primary; 0 = genesis
using Digest = crypto::Digest256;

// What the committee orders: opaque bytes from a client. (client, client_seq)
// identifies a request; a request is applied at most once.
struct Request {
  uint64_t client = 0;
  uint64_t client_seq = 0;
  Bytes payload;
  bool operator==(const Request&) const = default;
};

// Primary assigns `seq` in `view` to the batch whose digest is `digest`
// (= BatchDigest(batch)). An empty batch is the null request of a new view.
struct PrePrepare {
  ViewNumber view = 0;
  SeqNumber seq = 0;
  Digest digest{};
  std::vector<Request> batch;
  bool operator==(const PrePrepare&) const = default;
};

struct Prepare {
  ViewNumber view = 0;
  SeqNumber seq = 0;
  Digest digest{};
  bool operator==(const Prepare&) const = default;
};

struct Commit {
  ViewNumber view = 0;
  SeqNumber seq = 0;
  Digest digest{};
  bool operator==(const Commit&) const = default;
};

// "My state after executing `seq` has digest `state_digest`."
struct Checkpoint {
  SeqNumber seq = 0;
  Digest state_digest{};
  bool operator==(const Checkpoint&) const = default;
};

template <typename T>
struct Signed {
  ReplicaId signer;
  T body;
  Bytes signature;
  bool operator==(const Signed&) const = default;
};

// A pre-prepare plus 2f matching prepares from distinct backups.
struct PreparedCert {
  Signed<PrePrepare> pre_prepare;
  std::vector<Signed<Prepare>> prepares;
  bool operator==(const PreparedCert&) const = default;
};

// A pre-prepare plus 2f+1 matching commits from distinct replicas: proof that
// the batch is committed at pre_prepare.seq (used by state transfer).
struct CommitCert {
  Signed<PrePrepare> pre_prepare;
  std::vector<Signed<Commit>> commits;
  bool operator==(const CommitCert&) const = default;
};

// 2f+1 matching checkpoint votes: the checkpoint at `seq` is stable. seq 0 is
// the genesis checkpoint (digest all zero, no votes).
struct CheckpointCert {
  SeqNumber seq = 0;
  Digest digest{};
  std::vector<Signed<Checkpoint>> votes;
  bool operator==(const CheckpointCert&) const = default;
};

// "I move to `new_view`": my latest stable checkpoint with its proof, and for
// each sequence number above it the prepared certificate of the highest view
// in which I prepared it.
struct ViewChange {
  ViewNumber new_view = 0;
  CheckpointCert checkpoint;
  std::vector<PreparedCert> prepared;
  bool operator==(const ViewChange&) const = default;
};

// From the primary of `view`: 2f+1 view changes for `view` and the
// pre-prepares every replica recomputes from them (ComputeNewViewPlan).
struct NewView {
  ViewNumber view = 0;
  std::vector<Signed<ViewChange>> view_changes;
  std::vector<Signed<PrePrepare>> pre_prepares;
  bool operator==(const NewView&) const = default;
};

// Periodic liveness hint: lets peers resend a new-view or serve a fetch.
struct StatusReport {
  ViewNumber view = 0;
  bool in_view_change = false;
  SeqNumber last_executed = 0;
  SeqNumber stable_seq = 0;
  bool operator==(const StatusReport&) const = default;
};

// State transfer request: "I have executed up to next_seq-1; my stable
// checkpoint is stable_seq".
struct Fetch {
  SeqNumber next_seq = 0;
  SeqNumber stable_seq = 0;
  bool operator==(const Fetch&) const = default;
};

// State transfer answer: optionally a stable checkpoint with its proof and
// the state snapshot it certifies, then committed batches with proofs.
struct FetchReply {
  std::optional<CheckpointCert> checkpoint;
  std::optional<Bytes> snapshot;  // only with checkpoint; SHA3-256 must equal checkpoint->digest
  std::vector<CommitCert> entries;
  bool operator==(const FetchReply&) const = default;
};

using Message = std::variant<Signed<Request>, Signed<PrePrepare>, Signed<Prepare>, Signed<Commit>,
                             Signed<Checkpoint>, Signed<ViewChange>, Signed<NewView>,
                             Signed<StatusReport>, Signed<Fetch>, Signed<FetchReply>>;

// Short lower-case name of the message's kind ("pre_prepare", ...).
std::string_view MessageKind(const Message& m);
ReplicaId MessageSigner(const Message& m);

}  // namespace swarm::consensus
