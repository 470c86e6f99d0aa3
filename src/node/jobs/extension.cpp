#include "node/jobs/extension.h"

#include <chrono>
#include <random>

#include <spdlog/spdlog.h>

#include "absl/strings/ascii.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "node/config.h"
#include "net/address.h"
#include "node/jobs/service.h"
#include "node/node.h"

namespace swarm::node {
namespace {

class JobsExtension final : public Extension {
 public:
  explicit JobsExtension(std::unique_ptr<JobsService> s) : service_(std::move(s)) {}
  std::string name() const override { return "jobs"; }
  std::vector<grpc::Service*> services() override { return {service_.get()}; }
  Status Start(Node& node) override {
    // Workers: jobs.workers when set, else the alive members whose grant holds
    // jobs_worker (read from the membership view each queen tick, so a grant
    // that expires, is revoked or excluded drops the worker at once).
    if (service_->config().queen && service_->config().workers.empty()) {
      Node* n = &node;
      service_->SetAdmittedWorkers([n] {
        std::vector<JobsService::AdmittedWorker> out;
        for (auto& [address, op] : n->Placement().AliveWithRoles(static_cast<uint32_t>(admission::Role::kJobsWorker)))
          out.push_back({address, op});
        return out;
      });
    }
    service_->Start(node);
    const auto& c = service_->config();
    spdlog::info("jobs: roles{}{}{}{} quorum {}{}", c.queen ? " queen" : "", c.worker ? " worker" : "",
                 c.guardian ? " guardian" : "", c.scout ? " scout" : "", 2 * c.queen_config.f + 1,
                 c.lie ? ", LYING (jobs.lie, test only)" : "");
    return absl::OkStatus();
  }
  void Stop() override { service_->Stop(); }
  nlohmann::json StatusJson() override { return service_->StatusJson(); }

 private:
  std::unique_ptr<JobsService> service_;
};

}  // namespace

ExtensionFactory JobsExtensionFactory() {
  ExtensionFactory f;
  f.section = "jobs";
  f.add_config_keys = [](ConfigSchema& s) {
    s.String("jobs.role", "off", {}, "Comma-separated roles: off, or any of queen, worker, guardian, scout.")
        .Int("jobs.quorum", 3, 1, 33, "Workers per task (2f+1, odd); a result is accepted when f+1 digests match.")
        .String("jobs.mode", "replicate", {"replicate", "sample"},
                "replicate: every task on `quorum` workers; sample: one worker, a fraction audited by a guardian.")
        .Double("jobs.audit_fraction", 0.2, 0.0, 1.0, "Sample mode: share of tasks re-run by a guardian.")
        .Int("jobs.task_deadline_ms", 30000, 10, 3600000, "A task not answered within this is re-scheduled (ms).")
        .Int("jobs.worker_inflight_max", 2, 1, 1024, "Tasks outstanding per worker.")
        .Int("jobs.task_attempts_max", 16, 1, 1024, "Assignments per task before the job fails.")
        .StringList("jobs.workers", {}, "Worker addresses, host:port or host:port@operator; empty = the peers admitted with the jobs_worker role (never every member).")
        .StringList("jobs.guardians", {}, "Addresses the queen treats as guardians (sample-mode audits).")
        .Double("jobs.pheromone_initial", 1.0, 0.001, 1000, "Starting pheromone tau of a worker.")
        .Double("jobs.pheromone_min", 0.05, 0.0001, 1000, "Floor tau evaporates towards.")
        .Double("jobs.pheromone_max", 50, 0.001, 1e6, "Ceiling of tau.")
        .Double("jobs.pheromone_evaporation", 0.05, 0, 100, "rho: tau decays as exp(-rho * seconds) towards the floor.")
        .Double("jobs.pheromone_deposit", 1.0, 0, 1000, "Added to tau for each result matching the accepted digest.")
        .Double("jobs.pheromone_miss_factor", 0.5, 0, 1, "tau is multiplied by this on a missed deadline or failure.")
        .Double("jobs.pheromone_alpha", 1.0, 0, 8, "Selection probability is proportional to tau^alpha / (1 + inflight).")
        .Int("jobs.scout_interval_ms", 10000, 100, 3600000, "Scout: probe period per worker (ms).")
        .Int("jobs.worker_threads", 1, 1, 256, "Worker: evaluations at once.")
        .Int("jobs.jobs_retained_max", 16, 1, 4096, "Queen: jobs kept (finished ones are forgotten first).")
        .Int("jobs.jobs_per_client_max", 4, 1, 4096, "Queen: jobs one client may hold; beyond, its own oldest finished job is forgotten.")
        .Int("jobs.tasks_per_client_max", 4096, 1, 1 << 20, "Queen: tasks of one client's running jobs.")
        .Int("jobs.job_retention_ms", 600000, 0, 86400000, "Queen: another client's finished job is kept at least this long.")
        .Bool("jobs.lie", false, "TEST ONLY: this worker corrupts every result (the queen must exclude it).");
  };
  f.make = [](const Config& c, const NodeConfig&) -> StatusOr<std::unique_ptr<Extension>> {
    JobsConfig jc;
    const std::string role = c.GetString("jobs.role");
    for (absl::string_view part : absl::StrSplit(role, ',', absl::SkipWhitespace())) {
      const std::string r(absl::StripAsciiWhitespace(part));
      if (r == "off") continue;
      if (r == "queen") jc.queen = true;
      else if (r == "worker") jc.worker = true;
      else if (r == "guardian") jc.guardian = jc.worker = true;
      else if (r == "scout") jc.scout = true;
      else {
        return absl::InvalidArgumentError(
            absl::StrCat("jobs.role = '", role, "': unknown role '", r, "' (off, queen, worker, guardian, scout)"));
      }
    }
    if (jc.scout && !jc.queen) {
      return absl::InvalidArgumentError(absl::StrCat("jobs.role = '", role, "': scout runs beside a queen"));
    }
    if (!jc.queen && !jc.worker) return std::unique_ptr<Extension>();
    const int64_t quorum = c.GetInt("jobs.quorum");
    if (quorum % 2 == 0) {
      return absl::InvalidArgumentError(absl::StrCat("jobs.quorum = ", quorum, " must be odd (2f+1)"));
    }
    auto& q = jc.queen_config;
    q.f = static_cast<uint32_t>((quorum - 1) / 2);
    q.mode = c.GetString("jobs.mode") == "sample" ? jobs::QuorumMode::kSample : jobs::QuorumMode::kReplicate;
    q.audit_fraction = c.GetDouble("jobs.audit_fraction");
    q.task_deadline = Millis(c.GetInt("jobs.task_deadline_ms"));
    q.worker_inflight_max = static_cast<uint32_t>(c.GetInt("jobs.worker_inflight_max"));
    q.task_attempts_max = static_cast<uint32_t>(std::max<int64_t>(c.GetInt("jobs.task_attempts_max"), quorum));
    q.pheromone.tau_initial = c.GetDouble("jobs.pheromone_initial");
    q.pheromone.tau_min = c.GetDouble("jobs.pheromone_min");
    q.pheromone.tau_max = c.GetDouble("jobs.pheromone_max");
    q.pheromone.evaporation_per_second = c.GetDouble("jobs.pheromone_evaporation");
    q.pheromone.deposit = c.GetDouble("jobs.pheromone_deposit");
    q.pheromone.miss_factor = c.GetDouble("jobs.pheromone_miss_factor");
    q.pheromone.alpha = c.GetDouble("jobs.pheromone_alpha");
    // Audit sampling must not be predictable from the clock: a CSPRNG seed.
    std::random_device rd;
    q.seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    SWARM_RETURN_IF_ERROR(q.Validate());
    jc.scout_config.probe_interval = Millis(c.GetInt("jobs.scout_interval_ms"));
    SWARM_RETURN_IF_ERROR(jc.scout_config.Validate());
    jc.workers = c.GetStringList("jobs.workers");
    jc.guardians = c.GetStringList("jobs.guardians");
    jc.worker_threads = static_cast<uint32_t>(c.GetInt("jobs.worker_threads"));
    jc.jobs_retained_max = static_cast<uint32_t>(c.GetInt("jobs.jobs_retained_max"));
    jc.jobs_per_client_max = static_cast<uint32_t>(c.GetInt("jobs.jobs_per_client_max"));
    jc.tasks_per_client_max = static_cast<uint32_t>(c.GetInt("jobs.tasks_per_client_max"));
    jc.job_retention = Millis(c.GetInt("jobs.job_retention_ms"));
    for (const auto& w : jc.workers) {
      const std::string address = w.substr(0, w.find('@'));
      if (auto a = net::ParseAddress(address); !a.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("jobs.workers contains '", w, "': ", a.status().message()));
      }
    }
    jc.lie = c.GetBool("jobs.lie");
    return std::unique_ptr<Extension>(new JobsExtension(std::make_unique<JobsService>(std::move(jc))));
  };
  return f;
}

}  // namespace swarm::node
