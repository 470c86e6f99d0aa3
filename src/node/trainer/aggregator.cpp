#include "node/trainer/aggregator.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include <prometheus/counter.h>
#include <spdlog/spdlog.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "fhe/keyset.h"
#include "net/envelope.h"
#include "node/envelope_admission.h"
#include "node/node.h"
#include "train/secure_codec.h"
#include "train/trainer_peer.h"

namespace swarm::node {
namespace {

constexpr const char* kCtKind = train::kTrainCtKind;
constexpr const char* kSumKind = train::kTrainSumKind;
constexpr int kSendAttemptsMax = 30;
constexpr Nanos kSendRetryDelay = Millis(200);
constexpr size_t kEnvelopeOverheadBytes = 64 * 1024;  // signature, public key, headers

class SecureAggregatorExtension final : public Extension {
 public:
  explicit SecureAggregatorExtension(SecureAggregatorSettings s) : s_(std::move(s)) {}
  ~SecureAggregatorExtension() override { Stop(); }

  std::string name() const override { return "trainer"; }
  std::vector<std::string> envelope_kinds() const override { return {kCtKind}; }

  Status Start(Node& node) override {
    node_ = &node;
    secret_file_present_ = std::filesystem::exists(s_.keys_dir + "/" + fhe::kSecretKeyFile);
    if (secret_file_present_) {
      return absl::FailedPreconditionError(absl::StrCat(
          "trainer.secure_agg_keys = '", s_.keys_dir, "' holds ", fhe::kSecretKeyFile,
          "; the aggregator (trainer.role = \"aggregator\") must get only the public files of the key set"));
    }
    auto keys = fhe::LoadEvalKeys(s_.keys_dir);
    if (!keys.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("trainer.secure_agg_keys = '", s_.keys_dir, "': ", keys.status().message()));
    }
    keys_ = std::move(keys).value();
    const size_t bytes = fhe::SecureSumContributionBytes(*keys_.ctx, s_.round.dim);
    if (bytes > s_.envelope_bytes_max) {
      return absl::InvalidArgumentError(absl::StrCat(
          "trainer.secure_agg: one encrypted contribution of ", s_.round.dim, " values is ", bytes,
          " bytes, more than an envelope may carry (", s_.envelope_bytes_max,
          " bytes under net.message_size_bytes_max); raise net.message_size_bytes_max on every peer"));
    }
    auto& excl = prometheus::BuildCounter()
                     .Name("swarm_aggregation_excluded_total")
                     .Help("Contributions excluded from averaging, by reason")
                     .Register(node.metrics().registry());
    for (int k = 0; k < train::kSecureExclusionKinds; ++k) {
      const char* n = train::SecureExclusionName(static_cast<train::SecureExclusion>(k));
      excluded_[n] = &excl.Add({{"reason", n}});
    }
    excluded_["wrong_job"] = &excl.Add({{"reason", "wrong_job"}});
    excluded_["malformed"] = &excl.Add({{"reason", "malformed"}});
    auto& rounds = prometheus::BuildCounter()
                       .Name("swarm_secure_agg_rounds_total")
                       .Help("Encrypted-sum rounds closed by the aggregator, by outcome")
                       .Register(node.metrics().registry());
    rounds_ok_ = &rounds.Add({{"outcome", "summed"}});
    rounds_failed_ = &rounds.Add({{"outcome", "below_quorum"}});
    SWARM_ASSIGN_OR_RETURN(auto r, train::SecureSumRound::Create(s_.round, keys_.ctx, keys_.key_id));
    {
      std::lock_guard<std::mutex> lock(mu_);
      round_ = std::move(r);
      state_ = "aggregating";
    }
    started_ = true;
    spdlog::info("{}", absl::StrCat("trainer: secure aggregator for ", s_.round.trainers.size(),
                                    " trainers, CKKS N = ", keys_.ctx->n(), ", key ", fhe::KeyIdHex(keys_.key_id),
                                    ", no secret key"));
    thread_ = std::thread([this] { Run(); });
    return absl::OkStatus();
  }

  void Stop() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  // Admission (node/envelope_admission.h), then the sans-I/O round.
  Status OnEnvelope(const net::OpenedEnvelope& env) override {
    Status st = admission_.AdmitPayload<train::SecureCiphertextMessage>(
        env,
        train::DecodeSecureCiphertext(env.payload, {.sender_bytes_max = 256,
                                                    .used_max = 1024,
                                                    .blob_bytes_max = s_.envelope_bytes_max}),
        s_.job_id, "contribution", "not_a_trainer", [&](train::SecureCiphertextMessage& m) {
          if (!started_.load()) return absl::UnavailableError("trainer not started (aggregator)");
          std::lock_guard<std::mutex> lock(mu_);
          bytes_in_ += static_cast<int64_t>(env.payload.size());
          return round_->OnContribution(m.header.sender, m.header.round, m.blob, clock_.Now());
        });
    cv_.notify_all();
    return st;
  }

  nlohmann::json StatusJson() override {
    const auto excluded = admission_.counts();
    std::lock_guard<std::mutex> lock(mu_);
    nlohmann::json j = {{"role", "aggregator"},
                        {"state", state_},
                        {"secure_agg", "ckks"},
                        {"secret_key_loaded", false},
                        {"secret_key_file_present", secret_file_present_},
                        {"trainers", s_.round.trainers.size()},
                        {"dim", s_.round.dim},
                        {"steps", s_.round.rounds},
                        {"bytes_in", bytes_in_},
                        {"bytes_out", bytes_out_},
                        {"last_contributors", last_contributors_}};
    if (keys_.ctx) {
      j["key_id"] = fhe::KeyIdHex(keys_.key_id);
      j["ckks_n"] = keys_.ctx->n();
    }
    if (round_) {
      j["round"] = round_->round();
      j["rounds_summed"] = round_->rounds_closed();
      j["rounds_failed"] = round_->rounds_failed();
      j["contributions_summed"] = round_->contributions_summed();
    }
    nlohmann::json ex = nlohmann::json::object();
    for (const auto& [reason, n] : excluded) ex[reason] = n;
    j["excluded"] = ex;
    return j;
  }

 private:
  void Count(const std::string& reason) {
    if (auto it = excluded_.find(reason); it != excluded_.end()) it->second->Increment();
  }

  struct Retry {
    Nanos at;
    std::string peer;
    uint64_t round;
    std::shared_ptr<Bytes> payload;
    int attempt;
  };

  void Send(const std::string& peer, uint64_t round, std::shared_ptr<Bytes> payload, int attempt) {
    node_->SendEnvelope(peer, kSumKind, *payload, [this, peer, round, payload, attempt](const Status& st) {
      if (st.ok() || attempt >= kSendAttemptsMax) return;
      const bool starting = st.message().find("trainer not started") != absl::string_view::npos;
      if (!absl::IsUnavailable(st) && !absl::IsDeadlineExceeded(st) && !starting) return;
      std::lock_guard<std::mutex> lock(mu_);
      if (!stop_) retries_.push_back({clock_.Now() + kSendRetryDelay, peer, round, payload, attempt + 1});
    }, Seconds(10));
  }

  void Run() {
    for (;;) {
      std::vector<train::SecureRoundOutcome> outs;
      std::vector<Retry> due;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_for(lock, std::chrono::milliseconds(20));
        if (stop_) return;
        const Nanos now = clock_.Now();
        round_->OnTick(now);
        while (auto o = round_->TakeOutbox()) outs.push_back(std::move(*o));
        for (auto it = retries_.begin(); it != retries_.end();) {
          if (it->at <= now) {
            if (it->round + 2 >= round_->round()) due.push_back(*it);
            it = retries_.erase(it);
          } else {
            ++it;
          }
        }
        if (round_->done()) state_ = "done";
      }
      for (auto& r : due) Send(r.peer, r.round, r.payload, r.attempt);
      for (auto& o : outs) Publish(o);
    }
  }

  void Publish(const train::SecureRoundOutcome& o) {
    if (!o.status.ok()) {
      rounds_failed_->Increment();
      spdlog::warn("{}", absl::StrCat("trainer: aggregator: ", o.status.message()));
      return;  // the trainers give up on this round by themselves
    }
    rounds_ok_->Increment();
    Bytes blob = fhe::SerializeEncryptedVector(*keys_.ctx, o.sum);
    auto payload = std::make_shared<Bytes>(
        train::EncodeSecureSum({.job = s_.job_id, .round = o.round, .sender = s_.self}, o.used, blob));
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_contributors_ = static_cast<int64_t>(o.sum.contributors);
      bytes_out_ += static_cast<int64_t>(payload->size() * s_.round.trainers.size());
    }
    for (const auto& t : s_.round.trainers) Send(t, o.round, payload, 1);
  }

  SecureAggregatorSettings s_;
  Node* node_ = nullptr;
  RealClock clock_;
  fhe::EvalKeys keys_;
  bool secret_file_present_ = false;
  std::thread thread_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::unique_ptr<train::SecureSumRound> round_;
  std::deque<Retry> retries_;
  std::string state_ = "starting";
  int64_t bytes_in_ = 0, bytes_out_ = 0, last_contributors_ = 0;
  std::map<std::string, prometheus::Counter*> excluded_;  // filled in Start, read-only after
  EnvelopeAdmission admission_{{.on_refusal = [this](const std::string& reason) { Count(reason); }}};
  std::atomic<bool> started_{false};
  prometheus::Counter* rounds_ok_ = nullptr;
  prometheus::Counter* rounds_failed_ = nullptr;
};

}  // namespace

size_t SecurePayloadBytesMax(int64_t message_size_bytes_max) {
  const size_t cap = std::min<size_t>(static_cast<size_t>(message_size_bytes_max), net::kEnvelopeBytesMax);
  return cap > kEnvelopeOverheadBytes ? cap - kEnvelopeOverheadBytes : 0;
}

std::unique_ptr<Extension> MakeSecureAggregatorExtension(SecureAggregatorSettings settings) {
  return std::make_unique<SecureAggregatorExtension>(std::move(settings));
}

}  // namespace swarm::node
