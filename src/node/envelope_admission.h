// The admission checks a protocol applies to an envelope the node has
// already opened, in one place.
//
// Transport.Deliver (node/node.cpp) lets an envelope reach a protocol only
// after the call guard admitted the caller (node/call_guard.h) and
// net::EnvelopeOpener checked the signature, the sender id and replays
// (net/envelope.h). What is left is protocol-specific and was written once
// per site: the payload's size, its job id, and whether the name the payload
// speaks for belongs to the identity that signed it. EnvelopeAdmission does
// those, counts every refusal by reason, and returns it as InvalidArgument
// "<reason>: <detail>" (the reason is the metric label):
//
//   oversized     the payload is above payload_bytes_max
//   wrong_job     the payload names another job
//   <reason>      the claimed name is not the signer's:
//                   SignerMustBe: the name is derived from the signer's peer
//                     id (membership: "name_hijack");
//                   AdmitAs: trust on first use, a name stays bound to the
//                     first identity that signed for it (trainer, secure
//                     aggregator: "not_a_trainer" / "not_the_aggregator").
// A protocol's own refusal (a Status whose message starts with its reason,
// e.g. train::Averager's "late: ...") is counted through CountStatus.
//
// Used by node/trainer/extension.cpp, node/trainer/aggregator.cpp and
// node/membership_driver.cpp. Thread-safety: every method is thread-safe
// (one internal mutex; the refusal callback runs outside it). Bounded: at
// most bound_names_max names are bound; further new names are refused
// ("too_many_names").
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "common/status.h"
#include "crypto/identity.h"
#include "net/envelope.h"

namespace swarm::node {

// The reason a refusal carries: its message up to the first ':' (or space).
std::string RefusalReason(const Status& st);

class EnvelopeAdmission {
 public:
  struct Options {
    size_t payload_bytes_max = 0;   // 0: no size check
    size_t bound_names_max = 4096;  // AdmitAs bindings kept
    // Called once per refusal with its reason (e.g. a Prometheus counter).
    std::function<void(const std::string& reason)> on_refusal;
  };
  explicit EnvelopeAdmission(Options options) : options_(std::move(options)) {}

  // oversized when env.payload is larger than payload_bytes_max.
  Status CheckSize(const net::OpenedEnvelope& env);
  // wrong_job when got != want; `what` names the payload ("contribution").
  Status CheckJob(uint64_t got, uint64_t want, absl::string_view what);
  // `reason` when `claimed` != `signer_name` (the name derived from the signer).
  Status SignerMustBe(const std::string& claimed, const std::string& signer_name, absl::string_view reason);
  // Trust on first use: binds `name` to `signer` if unbound, refuses with
  // `reason` if it is bound to another identity, then runs `deliver` (the
  // protocol's own checks). A fresh binding is undone when `deliver` refuses
  // with the same reason (the protocol does not know the name) or answers
  // Unavailable (not started: nothing is bound before the protocol runs).
  // Every refusal, deliver's included, is counted (CountStatus).
  Status AdmitAs(const std::string& name, const crypto::PeerIdBytes& signer, absl::string_view reason,
                 absl::FunctionRef<Status()> deliver);
  // The common path of a payload whose decoded form has `header.job` and
  // `header.sender` (train/contribution_codec.h, train/secure_codec.h):
  // malformed when `decoded` failed, then CheckJob, then AdmitAs the sender.
  template <typename Message>
  Status AdmitPayload(const net::OpenedEnvelope& env, StatusOr<Message> decoded, uint64_t job,
                      absl::string_view what, absl::string_view name_reason,
                      absl::FunctionRef<Status(Message&)> deliver) {
    if (!decoded.ok()) return Refuse("malformed", decoded.status().message());
    SWARM_RETURN_IF_ERROR(CheckJob(decoded->header.job, job, what));
    return AdmitAs(decoded->header.sender, env.sender, name_reason, [&] { return deliver(*decoded); });
  }
  // Counts and returns InvalidArgument "<reason>: <detail>".
  Status Refuse(absl::string_view reason, absl::string_view detail);
  // Counts `st` by RefusalReason when it is a refusal (not OK and not
  // Unavailable, which means "not ready, retry": e.g. "trainer not started");
  // returns it.
  Status CountStatus(Status st);
  void Count(const std::string& reason);

  std::map<std::string, int64_t> counts() const;
  size_t bound_names() const;

 private:
  Options options_;
  mutable std::mutex mu_;
  std::map<std::string, crypto::PeerIdBytes> bound_;
  std::map<std::string, int64_t> counts_;
};

}  // namespace swarm::node
