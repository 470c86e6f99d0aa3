// `swarm evolve`: a NEAT run (islands + migration, evo/archipelago.h) whose
// fitness evaluations are spread over remote evaluator peers
// (client/evo_pool.h; peers run `swarm node --set evo.evaluator=true`) with a
// local fall-back, spot checks and exclusion of lying evaluators.
//
// What runs where: by default every island lives in this coordinator process
// (migration between them along the topology) and only the fitness
// evaluations go to the peers. With --remote-islands the islands live on the
// peers (client/evo_remote_islands.h) and this process steps them, migrates
// between them and re-checks claimed solutions. Either way the champions are
// kept in one CRDT archive replica per island, synchronised by Merkle
// anti-entropy in-process.
//
// Output: a progress line per generation on stderr; at the end a summary on
// stdout, or with --json one JSON object
//   {"task","solved","generations","evaluations","best_fitness", ...}.
// Exit code 0 when the run finished (solved or not), 2 for usage errors,
// 1 for runtime errors (e.g. every evaluation of a generation failed).
#include <filesystem>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include "cli/commands.h"
#include "cli/credentials.h"
#include "evo/archipelago.h"
#include "evo_runtime/checkpoint_file.h"
#include "evo/island_archives.h"
#include "evo/presets.h"
#include "evo_runtime/worker_pool.h"
#include "net/address.h"
#include "client/evo_pool.h"
#include "client/evo_remote_islands.h"
#include "net/http_server.h"
#include "node/metrics.h"

namespace swarm::cli {
namespace {

using nlohmann::json;
constexpr int kIslandsMax = 64;
constexpr int kPeersMax = 4096;

struct EvolveFlags {
  std::string task;
  int islands = 1;
  std::string topology = "ring";
  int migration_interval = 5;
  int migrants = 2;
  std::string peers_file;
  std::vector<std::string> peers;
  uint64_t seed = 1;
  bool json = false;
  int generations = 300;
  std::string checkpoint;
  int checkpoint_every = 10;
  bool resume = false;
  double prefer_local = 0;
  int timeout_ms = 10000;
  int retries = 2;
  double spot_check = 0.05;
  int local_threads = 1;
  int batch = 64;
  std::vector<std::string> sets;
  std::string metrics_listen;
  bool quiet = false;
  bool remote_islands = false;
};

[[noreturn]] void Usage(const std::string& msg) { Fail("evolve", absl::InvalidArgumentError(msg), kExitUsage); }

// Peers from a file: one host:port per line (# comments), or the
// cluster.json that `swarm up` writes ({"nodes":[{"grpc":...}]}).
StatusOr<std::vector<std::string>> ReadPeersFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("--peers '", path, "': cannot open"));
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  std::vector<std::string> out;
  json j = json::parse(text, nullptr, false);
  if (!j.is_discarded() && j.is_object()) {
    if (!j.contains("nodes") || !j["nodes"].is_array()) {
      return absl::InvalidArgumentError(absl::StrCat("--peers '", path, "': JSON without a \"nodes\" array"));
    }
    for (const auto& n : j["nodes"]) {
      if (!n.is_object() || !n.contains("grpc") || !n["grpc"].is_string()) {
        return absl::InvalidArgumentError(absl::StrCat("--peers '", path, "': a node has no \"grpc\" address"));
      }
      out.push_back(n["grpc"].get<std::string>());
    }
    return out;
  }
  std::istringstream lines(text);
  std::string line;
  int no = 0;
  while (std::getline(lines, line)) {
    ++no;
    if (auto h = line.find('#'); h != std::string::npos) line.resize(h);
    line.erase(0, line.find_first_not_of(" \t\r"));
    line.erase(line.find_last_not_of(" \t\r") + 1);
    if (line.empty()) continue;
    auto a = net::ParseAddress(line, false);
    if (!a.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", no, ": '", line, "': ", a.status().message()));
    }
    out.push_back(line);
  }
  return out;
}

// Coordinator metrics, served on --metrics-listen.
struct EvolveMetrics {
  node::Metrics m;
  prometheus::Counter* evaluations_remote;
  prometheus::Counter* evaluations_local;
  prometheus::Counter* failed;
  prometheus::Counter* migrations;
  prometheus::Counter* exclusions;
  prometheus::Counter* sync_bytes;
  prometheus::Gauge* alive;
  prometheus::Family<prometheus::Gauge>* best;
  prometheus::Family<prometheus::Gauge>* species;
  // Last totals pushed (counters only move by deltas).
  uint64_t last_remote = 0, last_local = 0, last_failed = 0, last_migrations = 0, last_excl = 0,
           last_sync = 0;

  EvolveMetrics() {
    auto& ev = prometheus::BuildCounter()
                   .Name("swarm_evo_evaluations_total")
                   .Help("Fitness evaluations completed, by where the accepted value came from")
                   .Register(m.registry());
    evaluations_remote = &ev.Add({{"role", "coordinator"}, {"source", "remote"}});
    evaluations_local = &ev.Add({{"role", "coordinator"}, {"source", "local"}});
    auto counter = [&](const char* name, const char* help) {
      return &prometheus::BuildCounter().Name(name).Help(help).Register(m.registry()).Add({});
    };
    failed = counter("swarm_evo_failed_evaluations_total",
                     "Evaluation attempts that failed (error, NaN/Inf, time-out), retried or not");
    migrations = counter("swarm_evo_migrations_total", "Genomes moved between islands");
    exclusions = counter("swarm_evo_evaluator_exclusions_total",
                         "Evaluators excluded because a spot check disagreed with their fitness");
    sync_bytes = counter("swarm_crdt_sync_bytes_total",
                         "Bytes of champion-archive anti-entropy messages between island replicas");
    alive = &prometheus::BuildGauge()
                 .Name("swarm_evo_evaluators_alive")
                 .Help("Registered evaluators neither excluded nor in cool-down")
                 .Register(m.registry())
                 .Add({});
    best = &prometheus::BuildGauge()
                .Name("swarm_evo_best_fitness")
                .Help("Best fitness of the last generation, per island")
                .Register(m.registry());
    species = &prometheus::BuildGauge()
                   .Name("swarm_evo_species")
                   .Help("Species in the last generation, per island")
                   .Register(m.registry());
  }
  static void Push(prometheus::Counter* c, uint64_t now, uint64_t& last) {
    if (now > last) c->Increment(static_cast<double>(now - last));
    last = now;
  }
};

std::string Bar(double frac, int width = 20) {
  frac = std::clamp(frac, 0.0, 1.0);
  const int full = static_cast<int>(std::lround(frac * width));
  return "[" + std::string(full, '#') + std::string(width - full, '.') + "]";
}

int RunEvolve(const EvolveFlags& f) {
  // ---- Validate flags and build the run.
  if (f.islands < 1 || f.islands > kIslandsMax)
    Usage(absl::StrCat("--islands = ", f.islands, " is not in [1, ", kIslandsMax, "]"));
  if (f.generations < 1) Usage(absl::StrCat("--generations = ", f.generations, " must be >= 1"));
  if (f.resume && f.checkpoint.empty()) Usage("--resume needs --checkpoint FILE");
  if (f.remote_islands && !f.checkpoint.empty())
    Usage("--checkpoint is not supported with --remote-islands (the populations live on the peers)");
  if (f.topology != "ring" && f.topology != "full")
    Usage(absl::StrCat("--topology = '", f.topology, "': expected ring or full"));
  auto task_or = evo::MakeBuiltinTask(f.task);
  if (!task_or.ok()) Fail("evolve", absl::InvalidArgumentError(absl::StrCat("--task: ", task_or.status().message())), kExitUsage);
  std::unique_ptr<evo::Task> task = std::move(*task_or);
  auto neat_or = evo::PresetConfig(f.task);
  if (!neat_or.ok()) Fail("evolve", neat_or.status(), kExitUsage);
  evo::NeatConfig neat = *neat_or;
  for (const auto& kv : f.sets) {
    if (auto s = evo::ApplyNeatOverride(neat, kv); !s.ok()) Fail("evolve", s, kExitUsage);
  }

  node::RemotePoolConfig pc;
  pc.task = f.task;
  pc.seed = f.seed ^ 0xd15a7c4ULL;
  pc.dispatch.prefer_local = f.prefer_local;
  pc.dispatch.evaluation_timeout = Millis(f.timeout_ms);
  pc.dispatch.retries = static_cast<uint32_t>(std::max(0, f.retries));
  pc.dispatch.spot_check_fraction = f.spot_check;
  pc.dispatch.local_slots = static_cast<uint32_t>(std::max(1, f.local_threads));
  pc.dispatch.batch_genomes_max = static_cast<uint32_t>(std::max(1, f.batch));
  if (auto s = pc.dispatch.Validate(); !s.ok()) Fail("evolve", s, kExitUsage);

  std::vector<std::string> peers = f.peers;
  if (!f.peers_file.empty()) {
    // swarm up's cluster.json: its folder holds the run's operator grant.
    if (auto s = UseRunCredentials(std::filesystem::path(f.peers_file).parent_path().string()); !s.ok())
      Fail("evolve", s, kExitUsage);
    auto more = ReadPeersFile(f.peers_file);
    if (!more.ok()) Fail("evolve", more.status(), kExitUsage);
    peers.insert(peers.end(), more->begin(), more->end());
  }
  if (peers.size() > static_cast<size_t>(kPeersMax))
    Usage(absl::StrCat(peers.size(), " peers exceed the limit of ", kPeersMax));

  std::unique_ptr<node::RemoteEvaluatorPool> pool;
  std::unique_ptr<evo::ParallelEvaluator> local_only;
  std::vector<std::string> unregistered;
  if (f.remote_islands && peers.empty()) Usage("--remote-islands needs --peer or --peers");
  if (!peers.empty() && !f.remote_islands) {
    pool = std::make_unique<node::RemoteEvaluatorPool>(pc, task.get());
    for (const auto& p : peers) {
      auto info = pool->AddEvaluator(p);
      if (info.ok()) {
        if (!f.quiet)
          std::cerr << "evaluator " << p << " ('" << info->id << "') capacity " << info->capacity << "\n";
      } else {
        std::cerr << "swarm evolve: warning: " << info.status().message() << " (will retry)\n";
        unregistered.push_back(p);
      }
    }
  } else {
    local_only = std::make_unique<evo::ParallelEvaluator>(task.get(), pc.dispatch.local_slots);
  }
  evo::Evaluator& evaluator = pool ? static_cast<evo::Evaluator&>(*pool) : *local_only;

  evo::ArchipelagoConfig acfg;
  acfg.migration_interval = static_cast<uint32_t>(std::max(0, f.migration_interval));
  acfg.migrants = static_cast<uint32_t>(std::max(0, f.migrants));
  const uint32_t n = static_cast<uint32_t>(f.islands);
  evo::Archipelago arch(neat, task.get(),
                        f.topology == "full" ? evo::Topology::Full(n) : evo::Topology::Ring(n), acfg,
                        f.seed);
  if (f.resume) {
    auto ck = evo::ReadCheckpointFile(f.checkpoint);
    if (!ck.ok()) Fail("evolve", ck.status(), kExitUsage);
    if (ck->task != f.task || ck->seed != f.seed) {
      Usage(absl::StrCat("checkpoint '", f.checkpoint, "' is for task '", ck->task, "' seed ", ck->seed,
                         ", this run is task '", f.task, "' seed ", f.seed));
    }
    if (auto s = arch.Load(std::move(ck->state)); !s.ok())
      Fail("evolve", absl::InvalidArgumentError(absl::StrCat(f.checkpoint, ": ", s.message())), kExitUsage);
    if (!f.quiet) std::cerr << "resumed from " << f.checkpoint << " at generation " << arch.island(0).generation() << "\n";
  }

  // Islands on the evaluator peers instead of in this process.
  std::unique_ptr<node::RemoteArchipelago> remote;
  if (f.remote_islands) {
    node::RemoteIslandsConfig rc;
    rc.task = f.task;
    rc.seed = f.seed;
    rc.neat_overrides = f.sets;
    rc.migration = acfg;
    rc.run_id = absl::StrCat("evolve-", getpid(), "-", f.seed);
    rc.step_timeout = Millis(std::max(f.timeout_ms, 1000) * 6);
    remote = std::make_unique<node::RemoteArchipelago>(
        rc, task.get(), f.topology == "full" ? evo::Topology::Full(n) : evo::Topology::Ring(n));
    for (const auto& p : peers) {
      if (auto s = remote->AddHost(p); !s.ok()) std::cerr << "swarm evolve: warning: " << s.message() << "\n";
    }
    if (remote->hosts_alive() == 0) {
      Fail("evolve", absl::UnavailableError("--remote-islands: no island host reachable"), kExitRuntime);
    }
  }
  auto step = [&]() { return remote ? remote->Step() : arch.Step(evaluator); };
  auto solved = [&] { return remote ? remote->solved() : arch.solved(); };
  auto generation = [&]() -> uint64_t { return remote ? remote->generation() : arch.island(0).generation(); };
  auto evaluations = [&]() -> uint64_t { return remote ? remote->evaluations() : arch.evaluations(); };
  auto migrations = [&]() -> uint64_t { return remote ? remote->migrations() : arch.migrations(); };
  auto champion = [&](uint32_t i) -> std::optional<evo::Scored> {
    return remote ? remote->champion(i) : arch.island(i).champion();
  };

  std::unique_ptr<EvolveMetrics> metrics;
  std::unique_ptr<net::HttpServer> http;
  if (!f.metrics_listen.empty()) {
    auto addr = net::ParseAddress(f.metrics_listen, true);
    if (!addr.ok()) Usage(absl::StrCat("--metrics-listen: ", addr.status().message()));
    if (!net::IsLoopbackHost(addr->host)) {
      Usage(absl::StrCat("--metrics-listen ", f.metrics_listen,
                         " is not a loopback address (swarm evolve has no HTTP token; put a proxy in front)"));
    }
    metrics = std::make_unique<EvolveMetrics>();
    http = std::make_unique<net::HttpServer>(net::HttpLimits{}, nullptr);
    http->Get("/metrics", [&metrics](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics->m.Render(), "text/plain; version=0.0.4; charset=utf-8");
    });
    if (auto s = http->Listen(addr->host, addr->port); !s.ok()) {
      Fail("evolve", absl::UnavailableError(absl::StrCat("--metrics-listen ", f.metrics_listen, ": cannot listen")),
           kExitUsage);
    }
    if (!f.quiet) std::cerr << "metrics on http://" << addr->host << ":" << http->port() << "/metrics\n";
  }
  auto stop_http = [&] {
    if (http) http->Stop();
  };

  evo::IslandArchives archives(n, crdt::ArchiveLimits{16, 1 << 20}, f.seed);
  const bool tty = isatty(STDERR_FILENO);
  const auto t0 = std::chrono::steady_clock::now();
  auto last_register = t0;
  const uint64_t evals_at_start = evaluations();
  double best = -1e300;
  evo::ArchipelagoStats st;
  uint64_t generations_run = 0;
  Status failure;
  while (!solved() && generation() < static_cast<uint64_t>(f.generations)) {
    auto s = step();
    if (!s.ok()) {
      failure = s.status();
      break;
    }
    st = *s;
    ++generations_run;
    best = std::max(best, st.best_fitness);
    for (uint32_t i = 0; i < n; ++i) {
      if (auto c = champion(i)) (void)archives.Record(i, *c);
    }
    (void)archives.Sync(Seconds(static_cast<double>(st.generation + 1)));

    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double rate = elapsed > 0 ? (evaluations() - evals_at_start) / elapsed : 0;
    size_t species = 0;
    double mean = 0;
    for (const auto& g : st.islands) {
      species += g.species;
      mean += g.mean_fitness / st.islands.size();
    }
    const size_t alive = remote ? remote->hosts_alive() : pool ? pool->evaluators_alive() : 0;
    const size_t registered = remote ? peers.size() : pool ? pool->evaluators().size() : 0;
    if (!f.quiet) {
      std::ostringstream line;
      line << Bar(static_cast<double>(st.generation + 1) / f.generations) << " gen " << st.generation
           << "  best " << std::setprecision(6) << st.best_fitness << "  mean " << std::setprecision(4)
           << mean << "  species " << species << "  evals/s " << std::fixed << std::setprecision(0) << rate
           << "  evaluators " << alive << "/" << registered << " alive";
      if (pool && pool->counters().exclusions)
        line << "  excluded " << pool->counters().exclusions;
      if (tty) std::cerr << "\r" << line.str() << "   " << std::flush;
      else std::cerr << line.str() << "\n";
    }
    if (metrics) {
      const auto& c = pool ? pool->counters() : evo::DispatchCounters{};
      EvolveMetrics::Push(metrics->evaluations_remote, c.remote_results, metrics->last_remote);
      EvolveMetrics::Push(metrics->evaluations_local, pool && !remote ? c.local_results : evaluations(),
                          metrics->last_local);
      EvolveMetrics::Push(metrics->failed, c.failed_evaluations, metrics->last_failed);
      EvolveMetrics::Push(metrics->exclusions, c.exclusions, metrics->last_excl);
      EvolveMetrics::Push(metrics->migrations, migrations(), metrics->last_migrations);
      EvolveMetrics::Push(metrics->sync_bytes, archives.sync_bytes(), metrics->last_sync);
      metrics->alive->Set(static_cast<double>(alive));
      for (uint32_t i = 0; i < n; ++i) {
        metrics->best->Add({{"island", std::to_string(i)}}).Set(st.islands[i].best_fitness);
        metrics->species->Add({{"island", std::to_string(i)}}).Set(static_cast<double>(st.islands[i].species));
      }
    }
    if (!f.checkpoint.empty() && (solved() || (st.generation + 1) % f.checkpoint_every == 0)) {
      evo::EvolveCheckpoint ck{f.task, f.seed, arch.Save()};
      if (auto w = evo::WriteCheckpointFile(f.checkpoint, ck); !w.ok())
        std::cerr << "\nswarm evolve: warning: " << w.message() << "\n";
    }
    // Evaluators that were not reachable at the start may have come up.
    if (pool && !unregistered.empty() &&
        std::chrono::steady_clock::now() - last_register > std::chrono::seconds(2)) {
      last_register = std::chrono::steady_clock::now();
      std::erase_if(unregistered, [&](const std::string& p) { return pool->AddEvaluator(p).ok(); });
    }
  }
  if (tty && !f.quiet) std::cerr << "\n";
  if (!failure.ok()) {
    stop_http();
    Fail("evolve", failure, kExitRuntime);
  }
  if (!f.checkpoint.empty()) {
    evo::EvolveCheckpoint ck{f.task, f.seed, arch.Save()};
    if (auto w = evo::WriteCheckpointFile(f.checkpoint, ck); !w.ok())
      std::cerr << "swarm evolve: warning: " << w.message() << "\n";
  }

  // Let the archive replicas finish their anti-entropy (bounded rounds).
  for (int r = 1; r <= 64 && !archives.Converged(); ++r)
    (void)archives.Sync(Seconds(static_cast<double>(generation() + r)));

  // ---- Report.
  double best_fitness = best;
  for (uint32_t i = 0; i < n; ++i)
    if (auto c = champion(i)) best_fitness = std::max(best_fitness, c->fitness);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  json out = {{"task", f.task},
              {"solved", solved()},
              {"generations", generation()},
              {"evaluations", evaluations()},
              {"best_fitness", best_fitness}};
  json extra = {{"islands", n},
                {"seed", f.seed},
                {"migrations", migrations()},
                {"islands_on_peers", remote != nullptr},
                {"elapsed_s", elapsed},
                {"generations_this_run", generations_run},
                {"archive_entries", archives.archive(0).size()},
                {"archives_converged", archives.Converged()},
                {"crdt_sync_bytes", archives.sync_bytes()}};
  if (remote) {
    json isl = json::array();
    for (const auto& v : remote->islands()) isl.push_back({{"island", v.island}, {"host", v.host}, {"moves", v.moves}});
    extra["island_hosts"] = isl;
    extra["island_moves"] = remote->island_moves();
    extra["rejected_solution_claims"] = remote->rejected_claims();
    extra["rejected_replies"] = remote->rejections();
    for (const auto& why : remote->rejections()) {
      std::cerr << "swarm evolve: rejected an island reply (host excluded, island moved): " << why << "\n";
    }
    extra["hosts_alive"] = remote->hosts_alive();
  }
  if (pool && !remote) {
    const auto& c = pool->counters();
    json evs = json::array();
    for (const auto& e : pool->evaluators()) {
      evs.push_back({{"address", e.id}, {"capacity", e.capacity}, {"excluded", e.excluded},
                     {"results", e.results}});
    }
    extra["evaluators"] = evs;
    extra["evaluators_unreachable"] = unregistered;
    extra["remote_evaluations"] = c.remote_results;
    extra["local_evaluations"] = c.local_results;
    extra["fallback_local"] = c.fallback_local;
    extra["failed_evaluations"] = c.failed_evaluations;
    extra["non_finite"] = c.non_finite;
    extra["timeouts"] = c.timeouts;
    extra["spot_checks"] = c.spot_checks;
    extra["evaluator_exclusions"] = c.exclusions;
  }
  if (f.json) {
    // The five contract keys first, then details.
    std::string text = out.dump();
    text.pop_back();
    for (auto& [k, v] : extra.items()) text += ",\"" + k + "\":" + v.dump();
    std::cout << text << "}\n";
  } else {
    std::cout << "task " << f.task << ": " << (solved() ? "solved" : "not solved") << " after "
              << generation() << " generations, " << evaluations()
              << " evaluations, best fitness " << best_fitness << " (" << std::fixed
              << std::setprecision(1) << elapsed << " s)\n";
    if (pool) {
      const auto& c = pool->counters();
      std::cout << "remote " << c.remote_results << ", local " << c.local_results << " (fall-back "
                << c.fallback_local << "), failed " << c.failed_evaluations << ", spot checks "
                << c.spot_checks << ", evaluators excluded " << c.exclusions << "\n";
    }
  }
  stop_http();
  return 0;
}

}  // namespace

void AddEvolveCommand(CLI::App& app) {
  auto flags = std::make_shared<EvolveFlags>();
  CLI::App* cmd = app.add_subcommand(
      "evolve",
      "Run NEAT (islands + migration) with fitness evaluated by remote evaluator peers "
      "(swarm node --set evo.evaluator=true). Islands run in this process; evaluations go to the peers.");
  cmd->add_option("--task", flags->task, "xor | single-pole | double-pole | double-pole-nv")->required();
  cmd->add_option("--islands", flags->islands, "Number of islands (populations)");
  cmd->add_option("--topology", flags->topology, "Migration topology: ring | full");
  cmd->add_option("--migration-interval", flags->migration_interval, "Generations between migrations (0 = never)");
  cmd->add_option("--migrants", flags->migrants, "Best genomes sent along each route");
  cmd->add_option("--peers", flags->peers_file, "File of evaluator addresses (one host:port per line, or swarm up's cluster.json)");
  cmd->add_option("--peer", flags->peers, "Evaluator address host:port; repeatable");
  cmd->add_option("--seed", flags->seed, "Random seed (the run is deterministic given the evaluators' answers)");
  cmd->add_flag("--json", flags->json, "Print one JSON object at the end");
  cmd->add_option("--generations", flags->generations, "Stop after this many generations (total, across resumes)");
  cmd->add_option("--checkpoint", flags->checkpoint, "Write the populations to this file (versioned, checksummed)");
  cmd->add_option("--checkpoint-every", flags->checkpoint_every, "Generations between checkpoints")->check(CLI::PositiveNumber);
  cmd->add_flag("--resume", flags->resume, "Continue from --checkpoint");
  cmd->add_option("--prefer-local", flags->prefer_local, "Probability an evaluation runs locally even with evaluators free");
  cmd->add_option("--timeout-ms", flags->timeout_ms, "Per-request evaluation time-out")->check(CLI::PositiveNumber);
  cmd->add_option("--retries", flags->retries, "Remote re-dispatches of a failed evaluation before local fall-back");
  cmd->add_option("--spot-check", flags->spot_check, "Fraction of remote results re-evaluated locally to catch lying evaluators");
  cmd->add_option("--local-threads", flags->local_threads, "Local evaluation threads (fall-back and spot checks)")->check(CLI::PositiveNumber);
  cmd->add_option("--batch", flags->batch, "Genomes per remote request at most")->check(CLI::PositiveNumber);
  cmd->add_option("--set", flags->sets, "NEAT parameter override key=value (e.g. add_node_prob=0.05); repeatable");
  cmd->add_option("--metrics-listen", flags->metrics_listen, "Serve Prometheus /metrics on host:port while running");
  cmd->add_flag("-q,--quiet", flags->quiet, "No progress output");
  cmd->add_flag("--remote-islands", flags->remote_islands,
                "Host the islands on the peers (island i on peer i mod peers; the coordinator migrates "
                "between them and re-checks claimed solutions); a failed host's island restarts on another peer");
  cmd->callback([flags] {
    UseEnvironmentCredentialsOrExit();
    const int code = RunEvolve(*flags);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace swarm::cli
