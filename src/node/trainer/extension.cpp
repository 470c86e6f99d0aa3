#include "node/trainer/extension.h"

#include <algorithm>
#include <atomic>
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
#include "node/envelope_admission.h"
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
#include "train/trainer_peer.h"

namespace swarm::node {
namespace {

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
      .Double("trainer.expert_spot_check_share", 0.0, 0.0, 1.0,
              "remote experts: share of Forward calls also asked of a second replica and compared "
              "(mismatches counted and logged with evidence; no exclusion yet)")
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
  t.remote.spot_check_share = c.GetDouble("trainer.expert_spot_check_share");
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
    return s_.secure ? std::vector<std::string>{train::kTrainSumKind} : std::vector<std::string>{train::kTrainKind};
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
      s_.remote.round = [this] { return expert_round_.load(); };
      s_.remote.trainer = s_.self;
      if (s_.byzantine) {  // the attack reaches the expert path too
        s_.remote.craft_grad_out = [this](uint32_t, nn::HostTensor& g) { CraftExpertGradient(g); };
        s_.remote.byzantine_replay = true;
        s_.remote.oversized_every = 20;
      }
      SWARM_ASSIGN_OR_RETURN(remote_, RemoteExperts::Create(node, s_.job.model.num_experts, s_.remote));
    }
    SWARM_RETURN_IF_ERROR(MakePeer());
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

  // Admission (node/envelope_admission.h), then the peer machine.
  Status OnEnvelope(const net::OpenedEnvelope& env) override {
    if (env.kind == train::kTrainSumKind) return OnSum(env);
    Status st = admission_.AdmitPayload<train::DecodedContribution>(
        env, train::DecodeContribution(env.payload, {.dim_max = 1ull << 28, .sender_bytes_max = 256}), s_.job_id,
        "contribution", "not_a_trainer", [&](train::DecodedContribution& d) {
          if (!started_.load()) return absl::UnavailableError("trainer not started");
          std::lock_guard<std::mutex> lock(mu_);
          return peer_->OnContribution(d.header.sender, d.header.round, std::move(d.values), clock_.Now());
        });
    cv_.notify_all();
    return st;
  }

  nlohmann::json StatusJson() override {
    const auto excluded = admission_.counts();
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
                        {"peers_alive", peer_ ? peer_->averager().expected_alive() : 0},
                        {"rounds_failed", peer_ ? peer_->averager().rounds_failed() : 0},
                        {"parameters_averaged", dim_},
                        {"sync_seconds_last", sync_last_},
                        {"sync_seconds_mean", rounds_ ? sync_sum_ / rounds_ : 0.0},
                        {"batches_retried", batches_retried_},
                        {"expert_failures", expert_failures_},
                        {"resumed_from", resumed_from_}};
    if (remote_) {
      j["expert_call_failures"] = remote_->Failures();
      j["expert_failovers"] = remote_->failovers();
      if (s_.byzantine) j["expert_attack_calls"] = remote_->ByzantineCalls();
      if (s_.remote.spot_check_share > 0) j["expert_spot_checks"] = remote_->SpotChecks();
    }
    nlohmann::json ex = nlohmann::json::object();
    for (const auto& [reason, n] : excluded) ex[reason] = n;
    j["excluded"] = ex;
    if (s_.require_committed_root) j["roots_committed"] = roots_committed_;
    if (s_.secure) {
      j["secure_agg"] = "ckks";
      j["secret_key_loaded"] = secret_key_loaded_;
      j["aggregator_peer"] = s_.aggregator;
      j["values_clipped"] = peer_ ? peer_->values_clipped() : 0;
      j["rounds_not_included"] = peer_ ? peer_->rounds_not_included() : 0;
      j["peers_alive"] = peer_ ? peer_->last_contributors() : 0;
      j["ciphertext_bytes_sent"] = peer_ ? peer_->ciphertext_bytes_sent() : 0;
    }
    if (!error_.empty()) j["error"] = error_;
    return j;
  }

 private:
  // Loads the data, builds the model (LibTorch, node/trainer/model.h) and the
  // sans-I/O peer (train/trainer_peer.h) that runs the rounds.
  Status MakePeer() {
    SWARM_ASSIGN_OR_RETURN(auto data, train::LoadExperimentData(s_.data));
    data_ = std::make_unique<nn::TrainTestSplit>(std::move(data));
    SWARM_ASSIGN_OR_RETURN(auto attack, train::MakeAttack(s_.job.EffectiveAttack()));
    const bool poisons = attack->poisons_labels();
    {
      // The expert path crafts from this trainer's own gradients (blind).
      SWARM_ASSIGN_OR_RETURN(auto expert_attack, train::MakeAttack(s_.job.EffectiveAttack()));
      expert_attack_ = std::move(expert_attack);
    }
    std::vector<std::shared_ptr<nn::ExpertBackend>> experts;
    if (remote_) experts = remote_->backends();
    SWARM_ASSIGN_OR_RETURN(model_, TrainerModel::Create(s_.job, *data_, s_.index, s_.job.trainers,
                                                        s_.byzantine && poisons, experts));
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
    std::optional<train::SecureTrainerKeys> keys;
    if (s_.secure) {
      SWARM_ASSIGN_OR_RETURN(auto k, LoadSecureKeys());
      keys = std::move(k);
    }
    train::TrainerPeerConfig pc;
    pc.self = s_.self;
    pc.trainers = s_.peers;
    pc.job = s_.job_id;
    pc.dim = dim_;
    pc.round_deadline = s_.round_deadline;
    pc.first_round_deadline = s_.first_round_deadline;
    pc.give_up_after = s_.give_up;
    pc.quorum = s_.quorum;
    pc.byzantine = s_.byzantine;
    pc.require_committed_root = s_.require_committed_root;
    pc.aggregator = s_.secure ? s_.aggregator : "";
    pc.secure_clip = s_.secure_clip;
    pc.sums_ahead_max = kSumsAheadMax;
    pc.attack_seed = s_.job.seed * 31 + static_cast<uint64_t>(s_.index);
    SWARM_ASSIGN_OR_RETURN(auto agg, train::MakeAggregator(s_.job.EffectiveAggregator()));
    SWARM_ASSIGN_OR_RETURN(auto peer, train::TrainerPeer::Create(std::move(pc), std::move(agg),
                                                                 s_.byzantine ? std::move(attack) : nullptr,
                                                                 std::move(keys)));
    std::lock_guard<std::mutex> lock(mu_);
    peer_ = std::move(peer);
    step_ = model_->step();
    started_ = true;
    return absl::OkStatus();
  }

  void Count(const std::string& reason) {
    if (auto it = excluded_.find(reason); it != excluded_.end()) it->second->Increment();
  }

  struct Retry {
    Nanos at;
    std::string peer;
    std::string kind;
    uint64_t round;
    std::shared_ptr<const Bytes> payload;
    int attempt;
  };

  void Send(const std::string& peer, const std::string& kind, uint64_t round, std::shared_ptr<const Bytes> payload,
            int attempt) {
    const Nanos deadline = s_.secure ? Seconds(10) : Seconds(2);  // megabytes of ciphertext
    node_->SendEnvelope(peer, kind, *payload, [this, peer, kind, round, payload, attempt](const Status& st) {
      if (st.ok() || attempt >= kSendAttemptsMax) return;
      // A peer whose trainer is still starting answers "trainer not started"
      // (the node maps it to INVALID_ARGUMENT): retry that too.
      const bool starting = st.message().find("trainer not started") != absl::string_view::npos;
      if (!absl::IsUnavailable(st) && !absl::IsDeadlineExceeded(st) && !starting) return;  // refused
      std::lock_guard<std::mutex> lock(mu_);
      if (!stop_) retries_.push_back({clock_.Now() + kSendRetryDelay, peer, kind, round, payload, attempt + 1});
    }, deadline);
  }

  // Re-sends due retries of rounds not yet closed everywhere (caller holds no lock).
  void FlushRetries() {
    std::vector<Retry> due;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const Nanos now = clock_.Now();
      for (auto it = retries_.begin(); it != retries_.end();) {
        if (it->at <= now) {
          if (it->round + 1 >= peer_->round()) due.push_back(*it);
          it = retries_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& r : due) Send(r.peer, r.kind, r.round, r.payload, r.attempt);
  }

  // The job's attack on the expert path (Byzantine): dL/dy of one expert call
  // crafted from this trainer's own honest one (blind: the others' expert
  // gradients are never seen). Runs on autograd threads, hence its own lock.
  void CraftExpertGradient(nn::HostTensor& g) {
    if (!expert_attack_ || expert_attack_->name() == "none") return;
    std::vector<train::Contribution> own = {train::Contribution(g.data)};
    std::vector<float> out(g.data.size());
    std::lock_guard<std::mutex> lock(expert_attack_mu_);
    if (expert_attack_->Craft(own, g.data, out, expert_attack_rng_).ok()) g.data = std::move(out);
  }

  // Secure aggregation: loads the group's keys (with the secret) and checks
  // that n clipped contributions fit the ciphertexts and an envelope.
  StatusOr<train::SecureTrainerKeys> LoadSecureKeys() {
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
    secret_key_loaded_ = keys->secret_key != nullptr;
    train::SecureTrainerKeys k;
    k.ctx = keys->eval.ctx;
    k.encryptor = std::make_unique<fhe::SecureSumEncryptor>(std::move(enc));
    k.decryptor = std::make_unique<fhe::SecureSumDecryptor>(std::move(dec));
    return k;
  }

  // A train_sum from the aggregator: admitted, then kept by the peer for the
  // training thread (decryption happens on its OnTick).
  Status OnSum(const net::OpenedEnvelope& env) {
    auto m = train::DecodeSecureSum(env.payload, {.sender_bytes_max = 256,
                                                  .used_max = 1024,
                                                  .blob_bytes_max = s_.payload_bytes_max});
    if (!m.ok()) return admission_.Refuse("malformed", m.status().message());
    SWARM_RETURN_IF_ERROR(admission_.CheckJob(m->header.job, s_.job_id, "sum"));
    if (!started_.load()) return absl::UnavailableError("trainer not started");
    if (m->header.sender != s_.aggregator) {
      return admission_.Refuse("not_the_aggregator", absl::StrCat("sum from '", m->header.sender.substr(0, 64),
                                                                  "'; trainer.aggregator = '", s_.aggregator, "'"));
    }
    // The aggregator's name stays bound to the first identity that signed for it.
    Status st = admission_.AdmitAs(s_.aggregator, env.sender, "not_the_aggregator", [&] {
      std::lock_guard<std::mutex> lock(mu_);
      return peer_->OnSum(std::move(m).value(), clock_.Now());
    });
    cv_.notify_all();
    return st;
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
    if (!r.ok()) return r.status();
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

  // What one round ended with, for the training loop.
  enum class RoundEnd { kOpen, kDone, kStop };

  // Acts on the peer's outbox: sends envelopes, commits roots, applies or
  // skips the step. kDone once the round's step is applied or skipped.
  RoundEnd Act(std::vector<train::TrainerAction> actions) {
    RoundEnd end = RoundEnd::kOpen;
    for (size_t i = 0; i < actions.size(); ++i) {
      train::TrainerAction a = std::move(actions[i]);  // CommitRoot may append to `actions`
      if (!a.count_reason.empty()) {
        admission_.Count(a.count_reason);
      }
      switch (a.kind) {
        case train::TrainerAction::kSend:
          for (const auto& to : a.to) Send(to, a.envelope_kind, a.round, a.payload, 1);
          break;
        case train::TrainerAction::kCommitRoot: {  // h2: the committee must commit the round's root first
          Status c = CommitRoot(a.round, a.aggregate);
          if (absl::IsCancelled(c)) return RoundEnd::kStop;
          std::lock_guard<std::mutex> lock(mu_);
          peer_->OnRootCommitted(a.round, c);
          for (auto& more : peer_->TakeOutbox()) actions.push_back(std::move(more));
          break;
        }
        case train::TrainerAction::kApply: {
          Observe(a.duration);
          if (Status st = model_->Apply(a.aggregate); !st.ok()) {
            Fail(st);
            return RoundEnd::kStop;
          }
          end = RoundEnd::kDone;
          break;
        }
        case train::TrainerAction::kSkip:
          Observe(a.duration);
          spdlog::warn("{}", absl::StrCat("trainer: step skipped: ", a.status.message()));
          model_->SkipStep();
          end = RoundEnd::kDone;
          break;
        case train::TrainerAction::kFail:
          Fail(a.status);
          return RoundEnd::kStop;
      }
    }
    return end;
  }

  void Observe(Nanos duration) {
    const double secs = ToSeconds(duration);
    sync_hist_->Observe(secs);
    std::lock_guard<std::mutex> lock(mu_);
    sync_last_ = secs;
    sync_sum_ += secs;
  }

  // The driver of train::TrainerPeer: local step (LibTorch), then ticks
  // every 20 ms (5 ms while a Byzantine peer waits to craft) until the
  // round's step is applied or skipped.
  void Run() {
    SetState("training");
    const int eval_every = s_.job.eval_every > 0 ? s_.job.eval_every : std::max(1, s_.job.steps / 10);
    while (model_->step() < s_.job.steps) {
      const uint64_t round = static_cast<uint64_t>(model_->step()) + 1;
      expert_round_ = round;  // tags this step's expert Backward calls
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
      std::vector<train::TrainerAction> actions;
      {
        std::lock_guard<std::mutex> lock(mu_);
        batches_retried_ += r->batches_retried;
        expert_failures_ += r->experts_failed;
        if (Status st = peer_->OnLocalStep(round, std::move(r->momentum), clock_.Now()); !st.ok()) {
          state_ = "failed";
          error_ = std::string(st.message());
          return;
        }
        actions = peer_->TakeOutbox();
      }
      RoundEnd end = Act(std::move(actions));
      while (end == RoundEnd::kOpen) {
        FlushRetries();
        {
          std::unique_lock<std::mutex> lock(mu_);
          if (stop_) return;
          const bool crafting = std::string_view(peer_->state_name()) == "crafting";
          cv_.wait_for(lock, std::chrono::milliseconds(crafting ? 5 : 20));
          if (stop_) return;
          peer_->OnTick(clock_.Now());
          actions = peer_->TakeOutbox();
        }
        end = Act(std::move(actions));
      }
      if (end == RoundEnd::kStop) return;
      step_gauge_->Set(static_cast<double>(model_->step()));
      loss_gauge_->Set(r->loss);
      {
        std::lock_guard<std::mutex> lock(mu_);
        step_ = model_->step();
        loss_ = r->loss;
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
  std::unique_ptr<RemoteExperts> remote_;  // before model_: outlives the backends' use
  std::atomic<uint64_t> expert_round_{0};   // the round expert Backward calls carry
  std::mutex expert_attack_mu_;
  std::unique_ptr<train::Attack> expert_attack_;
  Rng expert_attack_rng_{7};
  std::unique_ptr<TrainerModel> model_;
  size_t dim_ = 0;
  std::thread thread_;
  std::map<std::string, prometheus::Counter*> excluded_;  // filled in Start, read-only after
  EnvelopeAdmission admission_{{.on_refusal = [this](const std::string& reason) { Count(reason); }}};
  std::atomic<bool> started_{false};
  bool secret_key_loaded_ = false;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::unique_ptr<train::TrainerPeer> peer_;  // the round's state machine
  std::deque<Retry> retries_;
  std::string state_ = "starting";
  std::string error_;
  int64_t step_ = 0;
  double loss_ = 0, accuracy_ = -1;
  double sync_last_ = 0, sync_sum_ = 0;
  int64_t roots_committed_ = 0;  // require_committed_root
  int64_t rounds_ = 0, batches_retried_ = 0, expert_failures_ = 0, resumed_from_ = 0;

  prometheus::Histogram* sync_hist_ = nullptr;
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
