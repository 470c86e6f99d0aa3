#include "node/trainer/extension.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <spdlog/spdlog.h>

#include "absl/strings/match.h"
#include "fhe/keyset.h"
#include "fhe/secure_sum.h"
#include "node/config.h"
#include "node/node.h"
#include "node/trainer/aggregator.h"
#include "node/trainer/model.h"
#include "node/trainer/remote.h"
#if SWARM_NODE_HAVE_CONSENSUS
#include "client/consensus_client.h"  // trainer.require_committed_root
#endif
#include "train/averaging_round.h"
#include "train/contribution_codec.h"
#include "train/secure_codec.h"
#include "train/secure_round.h"

namespace swarm::node {
namespace {

constexpr char kKind[] = "train";
constexpr char kCtKind[] = "train_ct";    // secure_agg: trainer -> aggregator
constexpr char kSumKind[] = "train_sum";  // secure_agg: aggregator -> trainers
constexpr uint64_t kSumsAheadMax = 4;     // train_sum rounds ahead kept
constexpr int kSendAttemptsMax = 30;
constexpr Nanos kSendRetryDelay = Millis(200);

struct TrainerSettings {
  train::ExperimentConfig job;
  nn::DataConfig data;
  std::vector<std::string> peers;
  std::string self;
  int index = 0;
  bool byzantine = false;
  std::string experts = "local";
  RemoteExpertSettings remote;
  Nanos round_deadline = Seconds(2);
  Nanos first_round_deadline = Seconds(30);
  Nanos give_up = Seconds(60);
  size_t quorum = 0;
  int checkpoint_every = 0;
  bool resume = true;
  std::string checkpoint_path;
  uint64_t job_id = 0;
  bool require_committed_root = false;       // see CommitRoot
  std::vector<std::string> consensus_peers;  // PBFT committee members to submit through
  // Encrypted averaging (trainer.secure_agg = "ckks").
  std::string role = "trainer";  // or "aggregator"
  bool secure = false;
  std::string secure_keys;       // key directory (trainers: with secret.key)
  std::string aggregator;        // the aggregator's gRPC address
  double secure_clip = 4;
  size_t payload_bytes_max = 0;
};

uint64_t Fnv1a(const std::string& s, uint64_t h = 1469598103934665603ULL) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

const ConfigSchema& JobSchema() {
  static const ConfigSchema* s = [] {
    auto* schema = new ConfigSchema();
    nn::AddMoeConfigKeys(*schema);
    train::AddTrainConfigKeys(*schema);
    return schema;
  }();
  return *s;
}

void AddKeys(ConfigSchema& s) {
  s.Bool("trainer.enabled", false, "run a trainer of a data-parallel job on this peer")
      .String("trainer.job", "", {},
              "TOML of the job (model, moe, data, train, aggregator, attack); \"\" = defaults")
      .StringList("trainer.job_set", {}, "overrides of job keys, \"key=value\" each")
      .StringList("trainer.peers", {},
                  "gRPC addresses of every trainer of the job, this peer included, same order everywhere")
      .Bool("trainer.byzantine", false, "this trainer lies with the job's attack.name (evaluation only)")
      .String("trainer.experts", "local", {"local", "remote"},
              "local FFN experts (averaged) or experts hosted by [experts] peers over gRPC")
      .StringList("trainer.expert_hosts", {},
                  "remote experts: gRPC addresses of expert hosts to learn the ring from")
      .Int("trainer.expert_deadline_ms", 2000, 1, 600'000, "remote experts: per-call deadline")
      .String("trainer.expert_wire_dtype", "f32", {"f32", "f16", "int8"}, "remote experts: tensors on the wire")
      .Int("trainer.round_deadline_ms", 2000, 1, 3'600'000,
           "close an averaging round this long after it opened if a quorum is in")
      .Int("trainer.first_round_deadline_ms", 30000, 1, 3'600'000,
           "the first round waits this long for every trainer (start-up), then closes with a quorum")
      .Int("trainer.give_up_ms", 60000, 1, 3'600'000, "skip the step if no quorum after this long")
      .Int("trainer.quorum", 0, 0, 1024, "contributions needed at the deadline; 0 = n - f")
      .Int("trainer.checkpoint_every", 50, 0, 100'000'000, "steps between checkpoints; 0 = only at the end")
      .Bool("trainer.resume", true, "continue from <data_dir>/trainer/checkpoint.pt if present")
      .Bool("trainer.require_committed_root", false,
            "apply a round's aggregate only after its result root (train.round ledger record) is committed "
            "by the PBFT committee (trainer.consensus_peers)")
      .StringList("trainer.consensus_peers", {}, "require_committed_root: gRPC addresses of committee members")
      .String("trainer.secure_agg", "off", {"off", "none", "ckks"},
              "ckks: trainers send CKKS-encrypted contributions to an aggregator peer that only adds them "
              "(needs aggregator.name = mean); off (or none): plaintext robust averaging")
      .String("trainer.role", "trainer", {"trainer", "aggregator"},
              "secure_agg: \"aggregator\" = this peer adds the trainers' ciphertexts (no secret key, no training)")
      .String("trainer.secure_agg_keys", "",
              {}, "secure_agg: CKKS key directory (fhe keyset); trainers need secret.key, the aggregator must not have it")
      .String("trainer.aggregator", "", {}, "secure_agg: gRPC address of the aggregator peer")
      .Double("trainer.secure_agg_clip", 4.0, 1e-6, 1e6,
              "secure_agg: each value of a contribution is clipped to [-clip, clip] before encryption");
}

StatusOr<TrainerSettings> ReadSettings(const Config& c, const NodeConfig& node) {
  TrainerSettings t;
  Config job = JobSchema().Defaults();
  const std::string job_file = c.GetString("trainer.job");
  if (!job_file.empty()) {
    auto parsed = JobSchema().ParseFile(job_file);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("trainer.job = '", job_file, "': ", parsed.status().message()));
    }
    job = *parsed;
  }
  auto with = JobSchema().ApplyOverrides(job, c.GetStringList("trainer.job_set"));
  if (!with.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("trainer.job_set: ", with.status().message()));
  }
  SWARM_ASSIGN_OR_RETURN(t.job, train::ExperimentConfigFromConfig(*with));
  t.data = nn::DataConfigFromConfig(*with);
  t.peers = c.GetStringList("trainer.peers");
  if (t.peers.empty()) {
    return absl::InvalidArgumentError("trainer.peers is empty; list every trainer's gRPC address");
  }
  t.self = node.grpc_listen;
  t.role = c.GetString("trainer.role");
  t.secure = c.GetString("trainer.secure_agg") == "ckks";
  auto it = std::find(t.peers.begin(), t.peers.end(), t.self);
  if (t.role == "aggregator") {
    if (!t.secure) {
      return absl::InvalidArgumentError(
          "trainer.role = \"aggregator\" needs trainer.secure_agg = \"ckks\" (plaintext trainers average among "
          "themselves)");
    }
    if (it != t.peers.end()) {
      return absl::InvalidArgumentError(absl::StrCat("trainer.peers contains this aggregator's own address '", t.self,
                                                     "'; list only the trainers"));
    }
    t.index = -1;
  } else if (it == t.peers.end()) {
    return absl::InvalidArgumentError(absl::StrCat("trainer.peers does not contain this peer's address '",
                                                   t.self, "' (node.grpc_listen)"));
  } else {
    t.index = static_cast<int>(it - t.peers.begin());
  }
  if (static_cast<int>(t.peers.size()) != t.job.trainers) {
    // The job's n follows the peer list.
    t.job.trainers = static_cast<int>(t.peers.size());
    if (t.job.byzantine >= t.job.trainers) {
      return absl::InvalidArgumentError(absl::StrCat("train.byzantine = ", t.job.byzantine,
                                                     " must be < the ", t.job.trainers, " trainer.peers"));
    }
    SWARM_RETURN_IF_ERROR(t.job.Validate());
  }
  t.require_committed_root = c.GetBool("trainer.require_committed_root");
  t.consensus_peers = c.GetStringList("trainer.consensus_peers");
  if (t.require_committed_root && t.consensus_peers.empty()) {
    return absl::InvalidArgumentError(
        "trainer.require_committed_root = true needs trainer.consensus_peers (committee members' gRPC addresses)");
  }
#if !SWARM_NODE_HAVE_CONSENSUS
  if (t.require_committed_root) {
    return absl::InvalidArgumentError("trainer.require_committed_root: this binary was built without consensus/");
  }
#endif
  t.byzantine = c.GetBool("trainer.byzantine");
  t.experts = c.GetString("trainer.experts");
  t.remote.call_deadline = Millis(c.GetInt("trainer.expert_deadline_ms"));
  t.remote.hosts = c.GetStringList("trainer.expert_hosts");
  t.remote.wire_dtype = c.GetString("trainer.expert_wire_dtype");
  if (t.experts == "remote" && t.remote.hosts.empty()) {
    return absl::InvalidArgumentError("trainer.experts = \"remote\" needs trainer.expert_hosts (expert host addresses)");
  }
  t.round_deadline = Millis(c.GetInt("trainer.round_deadline_ms"));
  t.first_round_deadline = Millis(c.GetInt("trainer.first_round_deadline_ms"));
  t.give_up = Millis(c.GetInt("trainer.give_up_ms"));
  if (t.give_up < t.round_deadline || t.give_up < t.first_round_deadline) {
    return absl::InvalidArgumentError(absl::StrCat(
        "trainer.give_up_ms = ", c.GetInt("trainer.give_up_ms"), " is shorter than trainer.round_deadline_ms = ",
        c.GetInt("trainer.round_deadline_ms"), " or trainer.first_round_deadline_ms = ",
        c.GetInt("trainer.first_round_deadline_ms")));
  }
  const int64_t q = c.GetInt("trainer.quorum");
  t.quorum = q > 0 ? static_cast<size_t>(q) : static_cast<size_t>(t.job.trainers - t.job.byzantine);
  if (t.quorum > t.peers.size()) {
    return absl::InvalidArgumentError(absl::StrCat("trainer.quorum = ", q, " exceeds the ", t.peers.size(),
                                                   " trainer.peers"));
  }
  t.checkpoint_every = static_cast<int>(c.GetInt("trainer.checkpoint_every"));
  t.resume = c.GetBool("trainer.resume");
  if (t.secure) {
    // Robust rules compare individual contributions, which this path hides.
    if (t.job.aggregator.name != "mean") {
      return absl::InvalidArgumentError(absl::StrCat(
          "trainer.secure_agg = \"ckks\" needs aggregator.name = \"mean\", not \"", t.job.aggregator.name,
          "\": robust aggregators need the plaintext contributions that encrypted averaging hides"));
    }
    t.secure_keys = c.GetString("trainer.secure_agg_keys");
    if (t.secure_keys.empty()) {
      return absl::InvalidArgumentError(
          "trainer.secure_agg = \"ckks\" needs trainer.secure_agg_keys (the group's CKKS key directory)");
    }
    t.aggregator = c.GetString("trainer.aggregator");
    if (t.role == "trainer" && t.aggregator.empty()) {
      return absl::InvalidArgumentError(
          "trainer.secure_agg = \"ckks\" needs trainer.aggregator (the aggregator peer's gRPC address)");
    }
    t.secure_clip = c.GetDouble("trainer.secure_agg_clip");
    t.payload_bytes_max = SecurePayloadBytesMax(node.net.message_size_bytes_max);
  }
  if (!node.data_dir.empty()) t.checkpoint_path = node.data_dir + "/trainer/checkpoint.pt";
  std::string key;
  for (const auto& p : t.peers) key += p + ",";
  key += std::to_string(t.job.seed) + "," + std::to_string(t.job.steps);
  t.job_id = Fnv1a(key);
  return t;
}

class TrainerExtension final : public Extension {
 public:
  explicit TrainerExtension(TrainerSettings s) : s_(std::move(s)) {}
  ~TrainerExtension() override { Stop(); }

  std::string name() const override { return "trainer"; }
  std::vector<std::string> envelope_kinds() const override {
    return s_.secure ? std::vector<std::string>{kSumKind} : std::vector<std::string>{kKind};
  }

  Status Start(Node& node) override {
    node_ = &node;
    auto& reg = node.metrics().registry();
    sync_hist_ = &prometheus::BuildHistogram()
                      .Name("swarm_gradient_sync_duration_seconds")
                      .Help("Time from opening an averaging round to its aggregate")
                      .Register(reg)
                      .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                                       0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30});
    auto& excl = prometheus::BuildCounter()
                     .Name("swarm_aggregation_excluded_total")
                     .Help("Contributions excluded from averaging, by reason")
                     .Register(reg);
    for (int k = 0; k < train::kExclusionKinds; ++k) {
      const char* n = train::ExclusionName(static_cast<train::Exclusion>(k));
      excluded_[n] = &excl.Add({{"reason", n}});
    }
    excluded_["wrong_job"] = &excl.Add({{"reason", "wrong_job"}});
    excluded_["malformed"] = &excl.Add({{"reason", "malformed"}});
    if (s_.secure) excluded_["not_the_aggregator"] = &excl.Add({{"reason", "not_the_aggregator"}});
    step_gauge_ = &prometheus::BuildGauge().Name("swarm_trainer_step").Help("Optimizer steps done").Register(reg).Add({});
    loss_gauge_ = &prometheus::BuildGauge().Name("swarm_trainer_loss").Help("Last minibatch loss").Register(reg).Add({});
    acc_gauge_ = &prometheus::BuildGauge()
                      .Name("swarm_trainer_test_accuracy")
                      .Help("Last test accuracy (fraction)")
                      .Register(reg)
                      .Add({});
    if (s_.experts == "remote") {
      SWARM_ASSIGN_OR_RETURN(remote_, RemoteExperts::Create(node, s_.job.model.num_experts, s_.remote));
    }
    SWARM_RETURN_IF_ERROR(MakeAverager());
    if (s_.secure) SWARM_RETURN_IF_ERROR(MakeSecure());
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

  Status OnEnvelope(const net::OpenedEnvelope& env) override {
    if (env.kind == kSumKind) return OnSum(env);
    auto d = train::DecodeContribution(env.payload, {.dim_max = 1ull << 28, .sender_bytes_max = 256});
    if (!d.ok()) {
      Count("malformed");
      return absl::InvalidArgumentError(absl::StrCat("malformed: ", d.status().message()));
    }
    if (d->header.job != s_.job_id) {
      Count("wrong_job");
      return absl::InvalidArgumentError(absl::StrCat("wrong_job: contribution for job ", d->header.job,
                                                     ", this trainer runs job ", s_.job_id));
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (!averager_) return absl::UnavailableError("trainer not started");
    // Trust on first use: a trainer name stays bound to the first identity
    // that signed for it; another identity claiming it is not a trainer.
    auto [it, fresh] = bound_.emplace(d->header.sender, env.sender);
    if (!fresh && it->second != env.sender) {
      lock.unlock();
      Count("not_a_trainer");
      return absl::InvalidArgumentError(absl::StrCat("not_a_trainer: '", d->header.sender,
                                                     "' is bound to another identity"));
    }
    Status st = averager_->OnContribution(d->header.sender, d->header.round, std::move(d->values), clock_.Now());
    if (fresh && !st.ok() && absl::StartsWith(st.message(), "not_a_trainer")) bound_.erase(d->header.sender);
    lock.unlock();
    cv_.notify_all();
    if (!st.ok()) Count(std::string(st.message().substr(0, st.message().find(':'))));
    return st;
  }

  nlohmann::json StatusJson() override {
    std::lock_guard<std::mutex> lock(mu_);
    nlohmann::json j = {{"state", state_},
                        {"index", s_.index},
                        {"trainers", s_.peers.size()},
                        {"byzantine", s_.byzantine},
                        {"attack", s_.byzantine ? s_.job.attack.name : "none"},
                        {"aggregator", s_.job.aggregator.name},
                        {"experts", s_.experts},
                        {"step", step_},
                        {"steps", s_.job.steps},
                        {"loss", loss_},
                        {"accuracy", accuracy_},
                        {"peers_alive", averager_ ? averager_->expected_alive() : 0},
                        {"rounds_failed", averager_ ? averager_->rounds_failed() : 0},
                        {"parameters_averaged", dim_},
                        {"sync_seconds_last", sync_last_},
                        {"sync_seconds_mean", rounds_ ? sync_sum_ / rounds_ : 0.0},
                        {"batches_retried", batches_retried_},
                        {"expert_failures", expert_failures_},
                        {"resumed_from", resumed_from_}};
    if (remote_) {
      j["expert_call_failures"] = remote_->Failures();
      j["expert_failovers"] = remote_->failovers();
    }
    nlohmann::json ex = nlohmann::json::object();
    for (const auto& [reason, n] : excluded_counts_) ex[reason] = n;
    j["excluded"] = ex;
    if (s_.require_committed_root) j["roots_committed"] = roots_committed_;
    if (s_.secure) {
      j["secure_agg"] = "ckks";
      j["secret_key_loaded"] = secure_sk_ != nullptr;
      j["aggregator_peer"] = s_.aggregator;
      j["values_clipped"] = values_clipped_;
      j["rounds_not_included"] = rounds_not_included_;
      j["peers_alive"] = last_contributors_;
      j["ciphertext_bytes_sent"] = ct_bytes_sent_;
    }
    if (!error_.empty()) j["error"] = error_;
    return j;
  }

 private:
  Status MakeAverager() {
    SWARM_ASSIGN_OR_RETURN(auto data, train::LoadExperimentData(s_.data));
    data_ = std::make_unique<nn::TrainTestSplit>(std::move(data));
    SWARM_ASSIGN_OR_RETURN(auto attack, train::MakeAttack(s_.job.EffectiveAttack()));
    attack_ = std::move(attack);
    std::vector<std::shared_ptr<nn::ExpertBackend>> experts;
    if (remote_) experts = remote_->backends();
    SWARM_ASSIGN_OR_RETURN(model_, TrainerModel::Create(s_.job, *data_, s_.index, s_.job.trainers,
                                                        s_.byzantine && attack_->poisons_labels(), experts));
    dim_ = model_->dim();
    if (s_.resume && !s_.checkpoint_path.empty() && std::filesystem::exists(s_.checkpoint_path)) {
      if (s_.secure) {
        // The aggregator's rounds start at 1; a resumed trainer's would all be wrong_round.
        return absl::FailedPreconditionError(absl::StrCat(
            "trainer.resume = true and ", s_.checkpoint_path, " exists, but resuming is not supported with "
            "trainer.secure_agg = \"ckks\"; set trainer.resume = false or remove the checkpoint"));
      }
      SWARM_RETURN_IF_ERROR(model_->Load(s_.checkpoint_path));
      resumed_from_ = model_->step();
      spdlog::info("{}", absl::StrCat("trainer: resumed from ", s_.checkpoint_path, " at step ", resumed_from_));
    }
    train::AveragerConfig ac;
    ac.trainers = s_.peers;
    ac.dim = dim_;
    ac.round_deadline = s_.round_deadline;
    ac.give_up_after = s_.give_up;
    ac.quorum = s_.quorum;
    SWARM_ASSIGN_OR_RETURN(auto agg, train::MakeAggregator(s_.job.EffectiveAggregator()));
    SWARM_ASSIGN_OR_RETURN(auto av, train::Averager::Create(ac, std::move(agg)));
    std::lock_guard<std::mutex> lock(mu_);
    averager_ = std::move(av);
    step_ = model_->step();
    return absl::OkStatus();
  }

  void Count(const std::string& reason) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++excluded_counts_[reason];
    }
    if (auto it = excluded_.find(reason); it != excluded_.end()) it->second->Increment();
  }

  void Broadcast(uint64_t round, const std::vector<float>& v) {
    auto payload = std::make_shared<Bytes>(
        train::EncodeContributionF32({.job = s_.job_id, .round = round, .sender = s_.self}, v));
    for (const auto& p : s_.peers) {
      if (p != s_.self) Send(p, round, payload, 1);
    }
  }

  void Send(const std::string& peer, uint64_t round, std::shared_ptr<Bytes> payload, int attempt) {
    const char* kind = s_.secure ? kCtKind : kKind;
    const Nanos deadline = s_.secure ? Seconds(10) : Seconds(2);  // megabytes of ciphertext
    node_->SendEnvelope(peer, kind, *payload, [this, peer, round, payload, attempt](const Status& st) {
      if (st.ok() || attempt >= kSendAttemptsMax) return;
      // A peer whose trainer is still starting answers "trainer not started"
      // (the node maps it to INVALID_ARGUMENT): retry that too.
      const bool starting = st.message().find("trainer not started") != absl::string_view::npos;
      if (!absl::IsUnavailable(st) && !absl::IsDeadlineExceeded(st) && !starting) return;  // refused
      std::lock_guard<std::mutex> lock(mu_);
      if (!stop_) retries_.push_back({clock_.Now() + kSendRetryDelay, peer, round, payload, attempt + 1});
    }, deadline);
  }

  struct Retry {
    Nanos at;
    std::string peer;
    uint64_t round;
    std::shared_ptr<Bytes> payload;
    int attempt;
  };

  // Re-sends due retries of rounds not yet closed everywhere (caller holds no lock).
  void FlushRetries() {
    std::vector<Retry> due;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const Nanos now = clock_.Now();
      for (auto it = retries_.begin(); it != retries_.end();) {
        if (it->at <= now) {
          if (it->round + 1 >= (s_.secure ? secure_round_ : averager_->round())) due.push_back(*it);
          it = retries_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& r : due) Send(r.peer, r.round, r.payload, r.attempt);
  }

  // Waits until the round closes; nullopt when stopping.
  std::optional<train::RoundOutcome> AwaitOutcome() {
    for (;;) {
      FlushRetries();
      std::unique_lock<std::mutex> lock(mu_);
      if (stop_) return std::nullopt;
      averager_->OnTick(clock_.Now());
      if (auto out = averager_->TakeOutcome()) return out;
      cv_.wait_for(lock, std::chrono::milliseconds(20));
    }
  }

  // Byzantine: waits (bounded) for the others' contributions, then crafts.
  Status Craft(uint64_t round, Nanos opened, std::vector<float>& v) {
    std::vector<std::vector<float>> others;
    for (;;) {
      FlushRetries();
      std::unique_lock<std::mutex> lock(mu_);
      if (stop_) return absl::CancelledError("stopping");
      const auto& acc = averager_->accepted();
      const bool all = acc.size() + 1 >= averager_->expected_alive();
      if (all || clock_.Now() - opened > s_.round_deadline / 2 || !averager_->open() ||
          averager_->round() != round) {
        for (const auto& [from, vec] : acc) {
          if (from != s_.self) others.push_back(vec);
        }
        break;
      }
      cv_.wait_for(lock, std::chrono::milliseconds(5));
    }
    if (others.empty()) return absl::OkStatus();  // nothing to be omniscient about
    std::vector<train::Contribution> honest(others.begin(), others.end());
    std::vector<float> out(v.size());
    SWARM_RETURN_IF_ERROR(attack_->Craft(honest, v, out, attack_rng_));
    v = std::move(out);
    return absl::OkStatus();
  }

  Status CraftBlind(std::vector<float>& v) {
    std::vector<train::Contribution> own = {train::Contribution(v)};
    std::vector<float> out(v.size());
    SWARM_RETURN_IF_ERROR(attack_->Craft(own, v, out, attack_rng_));
    v = std::move(out);
    return absl::OkStatus();
  }

  // Secure aggregation: loads the group's keys (with the secret) and checks
  // that n clipped contributions fit the ciphertexts and an envelope.
  Status MakeSecure() {
    auto keys = fhe::LoadKeySet(s_.secure_keys);
    if (!keys.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("trainer.secure_agg_keys = '", s_.secure_keys, "': ", keys.status().message()));
    }
    const fhe::Context& ctx = *keys->eval.ctx;
    const double n = static_cast<double>(s_.peers.size());
    if (std::log2(n * s_.secure_clip * ctx.spec().scale) >= ctx.log2_q_at(0) - 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "trainer.secure_agg_clip = ", s_.secure_clip, " times ", s_.peers.size(),
          " trainers does not fit the sum's capacity of the CKKS keys in trainer.secure_agg_keys (N = ", ctx.n(),
          "); lower the clip or generate keys for more (swarm train picks them)"));
    }
    const size_t bytes = fhe::SecureSumContributionBytes(ctx, dim_);
    if (bytes > s_.payload_bytes_max) {
      return absl::InvalidArgumentError(absl::StrCat(
          "trainer.secure_agg: one encrypted contribution of ", dim_, " values is ", bytes,
          " bytes, more than an envelope may carry (", s_.payload_bytes_max,
          " bytes under net.message_size_bytes_max); raise net.message_size_bytes_max on every peer"));
    }
    SWARM_ASSIGN_OR_RETURN(auto enc, fhe::SecureSumEncryptor::Create(keys->eval.ctx, *keys->eval.public_key,
                                                                    {.scale = 0, .value_abs_max = s_.secure_clip}));
    SWARM_ASSIGN_OR_RETURN(auto dec, fhe::SecureSumDecryptor::Create(keys->eval.ctx, keys->secret_key,
                                                                    std::min<uint64_t>(2, s_.quorum)));
    std::lock_guard<std::mutex> lock(mu_);
    secure_enc_ = std::make_unique<fhe::SecureSumEncryptor>(std::move(enc));
    secure_dec_ = std::make_unique<fhe::SecureSumDecryptor>(std::move(dec));
    secure_ctx_ = keys->eval.ctx;
    secure_sk_ = keys->secret_key;
    return absl::OkStatus();
  }

  // A train_sum from the aggregator: checked and kept for the training thread.
  Status OnSum(const net::OpenedEnvelope& env) {
    auto m = train::DecodeSecureSum(env.payload, {.sender_bytes_max = 256,
                                                  .used_max = 1024,
                                                  .blob_bytes_max = s_.payload_bytes_max});
    if (!m.ok()) {
      Count("malformed");
      return absl::InvalidArgumentError(absl::StrCat("malformed: ", m.status().message()));
    }
    if (m->header.job != s_.job_id) {
      Count("wrong_job");
      return absl::InvalidArgumentError(absl::StrCat("wrong_job: sum for job ", m->header.job,
                                                     ", this trainer runs job ", s_.job_id));
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (!secure_dec_) return absl::UnavailableError("trainer not started");
    if (m->header.sender != s_.aggregator || (aggregator_id_ && *aggregator_id_ != env.sender)) {
      lock.unlock();
      Count("not_the_aggregator");
      return absl::InvalidArgumentError(absl::StrCat("not_the_aggregator: sum from '", m->header.sender,
                                                     "'; trainer.aggregator = '", s_.aggregator, "'"));
    }
    aggregator_id_ = env.sender;  // bound to the first identity that signed for it
    const uint64_t round = m->header.round;
    if (round < secure_round_ || round > secure_round_ + kSumsAheadMax) {
      return absl::InvalidArgumentError(absl::StrCat("stale: sum for round ", round, ", this trainer is at round ",
                                                     secure_round_));
    }
    if (sums_.count(round)) return absl::InvalidArgumentError(absl::StrCat("duplicate: second sum for round ", round));
    sums_.emplace(round, std::move(m).value());
    lock.unlock();
    cv_.notify_all();
    return absl::OkStatus();
  }

  // One round of encrypted averaging: clip, encrypt, send to the aggregator,
  // wait for the encrypted sum, decrypt the mean. nullopt when stopping.
  std::optional<train::RoundOutcome> SecureRound(uint64_t round, Nanos opened, std::vector<float> v) {
    train::RoundOutcome out;
    out.round = round;
    int64_t clipped = 0;
    for (auto& x : v) {
      if (std::fabs(x) > s_.secure_clip) {
        x = static_cast<float>(std::clamp<double>(x, -s_.secure_clip, s_.secure_clip));
        ++clipped;
      }
    }
    auto ev = secure_enc_->Encrypt(v);
    if (!ev.ok()) {
      out.status = ev.status();
      return out;
    }
    auto payload = std::make_shared<Bytes>(train::EncodeSecureCiphertext(
        {.job = s_.job_id, .round = round, .sender = s_.self}, fhe::SerializeEncryptedVector(*secure_ctx_, *ev)));
    {
      std::lock_guard<std::mutex> lock(mu_);
      values_clipped_ += clipped;
      ct_bytes_sent_ += static_cast<int64_t>(payload->size());
    }
    Send(s_.aggregator, round, payload, 1);
    train::SecureSumMessage msg;
    for (;;) {
      FlushRetries();
      std::unique_lock<std::mutex> lock(mu_);
      if (stop_) return std::nullopt;
      if (auto it = sums_.find(round); it != sums_.end()) {
        msg = std::move(it->second);
        sums_.erase(sums_.begin(), std::next(it));
        break;
      }
      if (!sums_.empty() && sums_.rbegin()->first > round) {
        // The aggregator closes rounds in order: this round's sum will not
        // come (it was lost, or the round failed). Skip it and catch up.
        out.status = absl::UnavailableError(absl::StrCat("round ", round, ": no encrypted sum (the aggregator is at round ",
                                                         sums_.rbegin()->first, ")"));
        out.duration = clock_.Now() - opened;
        return out;
      }
      if (clock_.Now() - opened > s_.give_up) {
        out.status = absl::UnavailableError(absl::StrCat("round ", round, ": no encrypted sum from the aggregator ",
                                                         s_.aggregator, " within trainer.give_up_ms"));
        out.duration = clock_.Now() - opened;
        return out;
      }
      cv_.wait_for(lock, std::chrono::milliseconds(20));
    }
    out.duration = clock_.Now() - opened;
    auto sum = fhe::DeserializeEncryptedVector(*secure_ctx_, msg.blob, dim_);
    if (sum.ok() && (sum->length != dim_ || sum->contributors != msg.used.size())) {
      sum = absl::InvalidArgumentError(absl::StrCat("the sum has ", sum->length, " values and claims ",
                                                    sum->contributors, " contributors but lists ", msg.used.size()));
    }
    if (!sum.ok()) {
      Count("malformed");
      out.status = absl::InvalidArgumentError(absl::StrCat("round ", round, ": bad sum: ", sum.status().message()));
      return out;
    }
    auto mean = secure_dec_->DecryptMean(*sum);
    if (!mean.ok()) {
      out.status = mean.status();
      return out;
    }
    out.aggregate = std::move(mean).value();
    out.used = msg.used;
    if (std::find(msg.used.begin(), msg.used.end(), s_.self) == msg.used.end()) {
      // Applied all the same; our contribution missed the round.
      Count("late");
      std::lock_guard<std::mutex> lock(mu_);
      ++rounds_not_included_;
    }
    std::lock_guard<std::mutex> lock(mu_);
    last_contributors_ = static_cast<int64_t>(msg.used.size());
    return out;
  }

  void SetState(const std::string& s) {
    std::lock_guard<std::mutex> lock(mu_);
    state_ = s;
  }

  void Fail(const Status& st) {
    spdlog::error("{}", absl::StrCat("trainer: ", st.message()));
    std::lock_guard<std::mutex> lock(mu_);
    state_ = "failed";
    error_ = std::string(st.message());
  }

  void Checkpoint() {
    if (s_.checkpoint_path.empty()) return;
    Status st = model_->Save(s_.checkpoint_path);
    if (!st.ok()) spdlog::error("{}", absl::StrCat("trainer: ", st.message()));
  }

  // trainer.require_committed_root: signs a train.round record (epoch =
  // round, payload_root = SHA3-256 of round and aggregate) with this node's
  // identity and waits until a committee member reports it committed; fails
  // after round_deadline x 10 without a committee answer.
  Status CommitRoot(uint64_t round, const std::vector<float>& aggregate) {
#if SWARM_NODE_HAVE_CONSENSUS
    SetState("committing round root");
    CommitteeClientOptions o;
    o.members = s_.consensus_peers;
    o.timeout = s_.round_deadline * 10;
    o.channel_to = [this](const std::string& a) { return node_->ChannelTo(a); };
    o.cancelled = [this] {
      std::lock_guard<std::mutex> lock(mu_);
      return stop_;
    };
    auto r = CommitRoundRoot(node_->identity(), round, aggregate, o);
    if (!r.ok()) {
      if (absl::IsCancelled(r.status())) return r.status();
      return absl::Status(r.status().code(), absl::StrCat("round ", round, ": result root not committed: ",
                                                          r.status().message()));
    }
    SetState("training");
    std::lock_guard<std::mutex> lock(mu_);
    ++roots_committed_;
    return absl::OkStatus();
#else
    (void)round;
    (void)aggregate;
    return absl::FailedPreconditionError("trainer.require_committed_root: built without consensus/");
#endif
  }

  void Evaluate() {
    auto acc = model_->TestAccuracy();
    if (!acc.ok()) return;
    acc_gauge_->Set(*acc);
    std::lock_guard<std::mutex> lock(mu_);
    accuracy_ = *acc;
  }

  void Run() {
    SetState("training");
    const int eval_every = s_.job.eval_every > 0 ? s_.job.eval_every : std::max(1, s_.job.steps / 10);
    attack_rng_ = Rng(s_.job.seed * 31 + static_cast<uint64_t>(s_.index));
    bool first = true;
    while (model_->step() < s_.job.steps) {
      const uint64_t round = static_cast<uint64_t>(model_->step()) + 1;
      auto r = model_->ComputeStep();
      // Too few experts answered (hosts starting, or all replicas of some
      // down): wait and retry the batch until give_up, then fail.
      const Nanos first_failure = clock_.Now();
      while (!r.ok() && absl::IsUnavailable(r.status()) && clock_.Now() - first_failure < s_.give_up) {
        SetState("waiting for experts");
        {
          std::unique_lock<std::mutex> lock(mu_);
          cv_.wait_for(lock, std::chrono::milliseconds(500), [this] { return stop_; });
          if (stop_) return;
        }
        r = model_->ComputeStep();
      }
      if (!r.ok()) {
        Fail(r.status());
        return;
      }
      SetState("training");
      const Nanos opened = clock_.Now();
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (s_.secure) {
          secure_round_ = round;
        } else {
          // The first round waits for every trainer to be up (start-up).
          Status st = averager_->Open(round, opened, first ? s_.first_round_deadline : 0);
          if (!st.ok()) {
            state_ = "failed";
            error_ = std::string(st.message());
            return;
          }
        }
        batches_retried_ += r->batches_retried;
        expert_failures_ += r->experts_failed;
      }
      std::vector<float> v = std::move(r->momentum);
      if (s_.byzantine && attack_->name() != "none") {
        // Encrypted averaging hides the others' contributions: the attacker
        // crafts from its own honest vector only.
        Status st = s_.secure ? CraftBlind(v) : Craft(round, opened, v);
        if (absl::IsCancelled(st)) return;
        if (!st.ok()) spdlog::warn("{}", absl::StrCat("trainer: attack: ", st.message()));
      }
      std::optional<train::RoundOutcome> out;
      if (s_.secure) {
        out = SecureRound(round, opened, std::move(v));
      } else {
        Broadcast(round, v);
        {
          std::lock_guard<std::mutex> lock(mu_);
          (void)averager_->OnContribution(s_.self, round, v, clock_.Now());
        }
        out = AwaitOutcome();
      }
      first = false;
      if (!out) return;
      const double secs = ToSeconds(out->duration);
      sync_hist_->Observe(secs);
      if (out->status.ok()) {
        if (s_.require_committed_root) {  // h2: the committee must commit the round's root first
          if (Status c = CommitRoot(round, out->aggregate); !c.ok()) {
            if (!absl::IsCancelled(c)) Fail(c);
            return;
          }
        }
        Status st = model_->Apply(out->aggregate);
        if (!st.ok()) {
          Fail(st);
          return;
        }
      } else {
        spdlog::warn("{}", absl::StrCat("trainer: step skipped: ", out->status.message()));
        model_->SkipStep();
      }
      step_gauge_->Set(static_cast<double>(model_->step()));
      loss_gauge_->Set(r->loss);
      {
        std::lock_guard<std::mutex> lock(mu_);
        step_ = model_->step();
        loss_ = r->loss;
        sync_last_ = secs;
        sync_sum_ += secs;
        ++rounds_;
      }
      if (model_->step() % eval_every == 0 || model_->step() == s_.job.steps) Evaluate();
      if (s_.checkpoint_every > 0 && model_->step() % s_.checkpoint_every == 0) Checkpoint();
    }
    Checkpoint();
    Evaluate();
    SetState("done");
    spdlog::info("{}", absl::StrCat("trainer: done after ", model_->step(), " steps, test accuracy ", accuracy_));
  }

  TrainerSettings s_;
  Node* node_ = nullptr;
  RealClock clock_;
  std::unique_ptr<nn::TrainTestSplit> data_;
  std::unique_ptr<train::Attack> attack_;
  Rng attack_rng_{1};
  std::unique_ptr<RemoteExperts> remote_;  // before model_: outlives the backends' use
  std::unique_ptr<TrainerModel> model_;
  size_t dim_ = 0;
  std::thread thread_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::unique_ptr<train::Averager> averager_;
  std::map<std::string, crypto::PeerIdBytes> bound_;
  std::deque<Retry> retries_;
  std::string state_ = "starting";
  std::string error_;
  int64_t step_ = 0;
  double loss_ = 0, accuracy_ = -1;
  double sync_last_ = 0, sync_sum_ = 0;
  int64_t roots_committed_ = 0;  // require_committed_root
  int64_t rounds_ = 0, batches_retried_ = 0, expert_failures_ = 0, resumed_from_ = 0;
  std::map<std::string, int64_t> excluded_counts_;
  // Secure aggregation (secure_enc_/secure_dec_ used by the training thread only).
  std::unique_ptr<fhe::SecureSumEncryptor> secure_enc_;
  std::unique_ptr<fhe::SecureSumDecryptor> secure_dec_;
  fhe::ContextPtr secure_ctx_;
  std::shared_ptr<const fhe::SecretKey> secure_sk_;
  std::optional<crypto::PeerIdBytes> aggregator_id_;
  std::map<uint64_t, train::SecureSumMessage> sums_;
  uint64_t secure_round_ = 0;
  int64_t values_clipped_ = 0, rounds_not_included_ = 0, last_contributors_ = 0, ct_bytes_sent_ = 0;

  prometheus::Histogram* sync_hist_ = nullptr;
  std::map<std::string, prometheus::Counter*> excluded_;
  prometheus::Gauge* step_gauge_ = nullptr;
  prometheus::Gauge* loss_gauge_ = nullptr;
  prometheus::Gauge* acc_gauge_ = nullptr;
};

// Stands in for remote experts when only the averaged vector's size is needed.
class NoExpert final : public nn::ExpertBackend {
 public:
  StatusOr<torch::Tensor> Forward(const torch::Tensor&) override {
    return absl::UnavailableError("the aggregator runs no experts");
  }
  bool is_remote() const override { return true; }
};

// The aggregating peer of secure averaging. It builds the job's model once
// (from the job config and data) only to learn the contribution's size.
StatusOr<std::unique_ptr<Extension>> MakeAggregator(const TrainerSettings& s) {
  SWARM_ASSIGN_OR_RETURN(auto data, train::LoadExperimentData(s.data));
  std::vector<std::shared_ptr<nn::ExpertBackend>> experts;
  if (s.experts == "remote") {
    for (int i = 0; i < s.job.model.num_experts; ++i) experts.push_back(std::make_shared<NoExpert>());
  }
  SWARM_ASSIGN_OR_RETURN(auto model, TrainerModel::Create(s.job, data, 0, s.job.trainers, false, experts));
  SecureAggregatorSettings a;
  a.self = s.self;
  a.keys_dir = s.secure_keys;
  a.job_id = s.job_id;
  a.envelope_bytes_max = s.payload_bytes_max;
  a.round.trainers = s.peers;
  a.round.dim = model->dim();
  a.round.round_deadline = s.round_deadline;
  a.round.first_round_deadline = s.first_round_deadline;
  a.round.give_up_after = s.give_up;
  a.round.quorum = s.quorum;
  a.round.rounds = static_cast<uint64_t>(s.job.steps);
  SWARM_RETURN_IF_ERROR(a.round.Validate());
  return MakeSecureAggregatorExtension(std::move(a));
}

}  // namespace

ExtensionFactory TrainerExtensionFactory() {
  ExtensionFactory f;
  f.section = "trainer";
  f.add_config_keys = AddKeys;
  f.make = [](const Config& c, const NodeConfig& node) -> StatusOr<std::unique_ptr<Extension>> {
    if (!c.GetBool("trainer.enabled")) return std::unique_ptr<Extension>();
    SWARM_ASSIGN_OR_RETURN(TrainerSettings s, ReadSettings(c, node));
    if (s.role == "aggregator") return MakeAggregator(s);
    return std::unique_ptr<Extension>(new TrainerExtension(std::move(s)));
  };
  return f;
}

}  // namespace swarm::node
