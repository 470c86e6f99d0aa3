#include "node/envelope_admission.h"

#include "absl/strings/str_cat.h"

namespace swarm::node {

std::string RefusalReason(const Status& st) {
  const absl::string_view m = st.message();
  const size_t end = m.find_first_of(" :");
  return std::string(m.substr(0, end));
}

Status EnvelopeAdmission::CheckSize(const net::OpenedEnvelope& env) {
  if (options_.payload_bytes_max > 0 && env.payload.size() > options_.payload_bytes_max) {
    return Refuse("oversized", absl::StrCat("payload of ", env.payload.size(), " bytes, at most ",
                                            options_.payload_bytes_max));
  }
  return absl::OkStatus();
}

Status EnvelopeAdmission::CheckJob(uint64_t got, uint64_t want, absl::string_view what) {
  if (got == want) return absl::OkStatus();
  return Refuse("wrong_job", absl::StrCat(what, " for job ", got, ", this peer serves job ", want));
}

Status EnvelopeAdmission::SignerMustBe(const std::string& claimed, const std::string& signer_name,
                                       absl::string_view reason) {
  if (claimed == signer_name) return absl::OkStatus();
  return Refuse(reason, absl::StrCat("'", claimed.substr(0, 64), "' is not the signer"));
}

Status EnvelopeAdmission::AdmitAs(const std::string& name, const crypto::PeerIdBytes& signer,
                                  absl::string_view reason, absl::FunctionRef<Status()> deliver) {
  enum { kBound, kFresh, kOther, kFull } binding;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = bound_.find(name);
    if (it != bound_.end()) {
      binding = it->second == signer ? kBound : kOther;
    } else if (bound_.size() >= options_.bound_names_max) {
      binding = kFull;
    } else {
      bound_.emplace(name, signer);
      binding = kFresh;
    }
  }
  if (binding == kOther) {
    return Refuse(reason, absl::StrCat("'", name.substr(0, 64), "' is bound to another identity"));
  }
  if (binding == kFull) {
    return Refuse("too_many_names", absl::StrCat("already ", options_.bound_names_max, " names bound"));
  }
  Status st = deliver();
  if (!st.ok() && binding == kFresh && (RefusalReason(st) == reason || absl::IsUnavailable(st))) {
    std::lock_guard<std::mutex> lock(mu_);
    bound_.erase(name);
  }
  return CountStatus(std::move(st));
}

Status EnvelopeAdmission::Refuse(absl::string_view reason, absl::string_view detail) {
  Count(std::string(reason));
  return absl::InvalidArgumentError(absl::StrCat(reason, ": ", detail));
}

Status EnvelopeAdmission::CountStatus(Status st) {
  if (!st.ok() && !absl::IsUnavailable(st)) Count(RefusalReason(st));
  return st;
}

void EnvelopeAdmission::Count(const std::string& reason) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[reason];
  }
  if (options_.on_refusal) options_.on_refusal(reason);
}

std::map<std::string, int64_t> EnvelopeAdmission::counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

size_t EnvelopeAdmission::bound_names() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bound_.size();
}

}  // namespace swarm::node
