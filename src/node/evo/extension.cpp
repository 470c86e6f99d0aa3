#include "node/evo/extension.h"

#include <prometheus/counter.h>
#include <spdlog/spdlog.h>

#include "node/config.h"
#include "node/evo/service.h"
#include "node/node.h"

namespace swarm::node {
namespace {

class EvoExtension final : public Extension {
 public:
  explicit EvoExtension(std::unique_ptr<EvoEvaluatorService> service) : service_(std::move(service)) {}

  std::string name() const override { return "evo"; }
  std::vector<grpc::Service*> services() override { return {service_.get()}; }

  Status Start(Node& node) override {
    auto& evaluations = prometheus::BuildCounter()
                            .Name("swarm_evo_evaluations_total")
                            .Help("Genome evaluations served by this peer (evo.evaluator)")
                            .Register(node.metrics().registry())
                            .Add({{"role", "evaluator"}});
    auto& failures = prometheus::BuildCounter()
                         .Name("swarm_evo_evaluation_failures_total")
                         .Help("Evaluations this peer could not score (bad genome, task error)")
                         .Register(node.metrics().registry())
                         .Add({});
    service_->SetMetrics(&evaluations, &failures);
    auto& rejected = node.metrics().rejected_calls;
    service_->SetOnRefused([&rejected](const std::string& reason) {
      rejected.Add({{"service", "evo"}, {"reason", reason}}).Increment();
    });
    const auto& c = service_->config();
    spdlog::info("evo: evaluator '{}' with capacity {}{}{}", c.evaluator_id, c.capacity,
                 c.latency > 0 ? fmt::format(", simulated latency {} ms", c.latency / 1'000'000) : "",
                 c.lie ? ", LYING (evo.lie, test only)" : "");
    return absl::OkStatus();
  }

  nlohmann::json StatusJson() override {
    const auto& c = service_->config();
    const auto& n = service_->counters();
    return {{"evaluator", true},
            {"capacity", c.capacity},
            {"tasks", c.tasks},
            {"latency_ms", c.latency / 1'000'000},
            {"lie", c.lie},
            {"requests", n.requests.load()},
            {"rejected_requests", n.rejected_requests.load()},
            {"evaluations", n.evaluations.load()},
            {"failed_evaluations", n.failed_evaluations.load()}};
  }

 private:
  std::unique_ptr<EvoEvaluatorService> service_;
};

}  // namespace

ExtensionFactory EvoExtensionFactory() {
  ExtensionFactory f;
  f.section = "evo";
  f.add_config_keys = [](ConfigSchema& s) {
    s.Bool("evo.evaluator", false, "Serve NEAT fitness evaluations to `swarm evolve` coordinators.")
        .Int("evo.capacity", 1, 1, 256, "Evaluations run at once on this peer (worker threads).")
        .StringList("evo.tasks", {"xor", "single-pole", "double-pole", "double-pole-nv"},
                    "Built-in tasks this evaluator accepts.")
        .Int("evo.batch_genomes_max", 256, 1, 100000, "Largest number of genomes in one Evaluate request.")
        .Int("evo.islands_max", 32, 1, 4096, "Islands this peer hosts for `swarm evolve --remote-islands`, all callers together.")
        .Int("evo.islands_per_caller_max", 8, 1, 4096, "Islands one caller may hold here; beyond, its own least recently used goes.")
        .Int("evo.island_population_max", 1000, 2, 1000000, "Largest population_size of a hosted island (memory is about 1 KB per genome).")
        .Int("evo.latency_ms", 0, 0, 60000, "Simulated extra latency per Evaluate request, in ms (benchmarks).")
        .Bool("evo.lie", false, "TEST ONLY: report wrong fitness (2f+1), a Byzantine evaluator the coordinator must exclude.");
  };
  f.make = [](const Config& c, const NodeConfig& node) -> StatusOr<std::unique_ptr<Extension>> {
    if (!c.GetBool("evo.evaluator")) return std::unique_ptr<Extension>();
    EvoServiceConfig cfg;
    cfg.evaluator_id = node.id.empty() ? node.grpc_listen : node.id;
    cfg.capacity = static_cast<uint32_t>(c.GetInt("evo.capacity"));
    cfg.tasks = c.GetStringList("evo.tasks");
    cfg.batch_genomes_max = static_cast<uint32_t>(c.GetInt("evo.batch_genomes_max"));
    cfg.latency = Millis(c.GetInt("evo.latency_ms"));
    cfg.islands_max = static_cast<uint32_t>(c.GetInt("evo.islands_max"));
    cfg.islands_per_caller_max = static_cast<uint32_t>(c.GetInt("evo.islands_per_caller_max"));
    cfg.island_population_max = static_cast<uint32_t>(c.GetInt("evo.island_population_max"));
    cfg.lie = c.GetBool("evo.lie");
    cfg.limits.genome_bytes_max =
        std::min<size_t>(cfg.limits.genome_bytes_max, static_cast<size_t>(node.net.message_size_bytes_max));
    SWARM_ASSIGN_OR_RETURN(auto service, EvoEvaluatorService::Create(std::move(cfg)));
    return std::unique_ptr<Extension>(new EvoExtension(std::move(service)));
  };
  return f;
}

}  // namespace swarm::node
