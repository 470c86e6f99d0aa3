// `swarm train`: MoE training on digits (or any CSV) by n trainers, f of them
// Byzantine, whose worker momenta go through a robust aggregator.
//
// Three ways to run it:
//  - default: a local swarm on loopback. This process spawns expert hosts
//    (`swarm node` with [experts], when the binary has them) and n trainer
//    peers (`swarm node` with [trainer], node/trainer/extension.h), which
//    average over signed envelopes; it shows their progress and stops them at
//    the end. Children get PR_SET_PDEATHSIG so nothing outlives this process.
//  - --peers A,B,..: watch trainer peers that are already running.
//  - --in-process: trainers, aggregator and experts in this one process
//    (train::RunExperiment), as the accuracy table uses.
// --secure-agg ckks (local swarm only): this process generates the group's
// CKKS keys for the run (the smallest preset whose capacity holds n clipped
// contributions, train::SecureAggParams) into <dir>/fhe-keys, copies the
// public files to <dir>/fhe-public, and spawns one more peer, the aggregator
// (trainer.role = "aggregator"), given only the public files; the trainers
// get the whole key set (node/trainer/extension.h).
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <future>
#include <mutex>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "net/dial.h"
#include "cli/commands.h"
#include "cli/credentials.h"
#include "cli/peer_json.h"
#include "cli/local_admission.h"
#include "cli/spawn.h"
#include "nn/moe_config.h"
#include "swarm/v1/node.grpc.pb.h"
#include "train/experiment.h"
#include "train/experiment_config.h"
#include "fhe/keyset.h"
#include "train/secure_round.h"

namespace swarm::cli {
namespace {

struct TrainFlags {
  std::string join;    // --join DIR: admit this run's peers with the issuer of `swarm up --dir DIR`
  std::string operator_name;  // --operator NAME: every spawned peer under one operator ("" = one each)
  bool rogue = false;  // an unadmitted process calls the expert hosts during the (attacked) run
  std::string config_file;
  std::vector<std::string> sets;
  bool print_config = false;
  bool clean_baseline = false;
  bool in_process = false;
  bool resume = false;
  std::string peers;            // existing trainers to watch
  int expert_hosts = -1;        // -1 = 3 when the binary hosts experts, else 0
  std::string dir;              // state of the local swarm
  int kill_expert_host_at = 0;  // SIGKILL expert host 0 at this step (0 = never)
  int kill_trainer_at = 0;      // SIGKILL the last trainer at this step
  int round_deadline_ms = 2000;
  std::vector<std::string> node_sets;  // extra --set for every spawned peer
  std::string log_level = "warn";
  double timeout_s = 1800;
  std::string secure_agg = "off";  // or "ckks"
  double secure_agg_clip = 4.0;
  bool require_committed_root = false;  // spawn a PBFT committee; trainers commit round roots first
};

const ConfigSchema& TrainSchema() {
  static const ConfigSchema* s = [] {
    auto* schema = new ConfigSchema();
    nn::AddMoeConfigKeys(*schema);
    train::AddTrainConfigKeys(*schema);
    return schema;
  }();
  return *s;
}

std::string Bar(double frac, int width = 24) {
  frac = std::clamp(frac, 0.0, 1.0);
  const int full = static_cast<int>(std::lround(frac * width));
  return "[" + std::string(full, '#') + std::string(width - full, '.') + "]";
}

void Line(const std::string& s, bool tty) {
  if (tty) std::cout << "\r" << s << "   " << std::flush;
  else std::cout << s << "\n" << std::flush;
}

// ---------------------------------------------------------------- in-process

StatusOr<train::ExperimentResult> RunInProcess(const train::ExperimentConfig& cfg,
                                               const nn::TrainTestSplit& data, const std::string& label) {
  const bool tty = isatty(STDOUT_FILENO);
  const int honest = cfg.trainers - cfg.byzantine;
  auto progress = [&](const train::ProgressPoint& p) {
    std::ostringstream line;
    line << label << " " << Bar(static_cast<double>(p.step) / cfg.steps) << " step " << p.step << "/"
         << cfg.steps << "  loss " << std::fixed << std::setprecision(4) << p.train_loss;
    if (p.test_accuracy >= 0) line << "  acc " << std::setprecision(2) << 100.0 * p.test_accuracy << "%";
    line << "  trainers " << honest << " honest + " << cfg.byzantine << " byzantine"
         << "  used " << p.aggregation_used;
    Line(line.str(), tty);
  };
  auto r = train::RunExperiment(cfg, data.train, data.test, progress);
  if (tty) std::cout << "\n";
  return r;
}

// ------------------------------------------------------------- local swarm

// A peer of the local swarm; supervision (spawn, reap by pid, report an
// unbidden exit, stop) is ChildGroup's (cli/spawn.h). A watched peer
// (--peers) has pid -1 and is never reaped.
struct Child : ChildProcess {
  std::string grpc, dir;
  bool byzantine = false;
};
using Group = ChildGroup<Child>;

Child MakeChild(std::string id, std::string grpc, std::string dir) {
  Child c;
  c.id = std::move(id);
  c.grpc = std::move(grpc);
  c.dir = std::move(dir);
  c.log_path = c.dir.empty() ? "" : c.dir + "/node.log";
  return c;
}

// Exits nobody asked for are reported on stdout, beside the progress lines.
ChildReport TrainReport() { return ChildReport{"== ", &std::cout}; }

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  int port = 0;
  if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) {
    socklen_t len = sizeof(a);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) port = ntohs(a.sin_port);
  }
  if (fd >= 0) close(fd);
  return port;
}

std::string TomlArray(const std::vector<std::string>& items) {
  std::string s = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    std::string e;
    for (char ch : items[i]) {
      if (ch == '"' || ch == '\\') e += '\\';
      e += ch;
    }
    s += (i ? ",\"" : "\"") + e + "\"";
  }
  return s + "]";
}

// The `key` object of a peer's status ("" = all of it), or nullopt if it did
// not answer or has no such object.
std::mutex& PeerStatusMu() {
  static std::mutex mu;
  return mu;
}
std::map<std::string, std::shared_ptr<swarm::v1::Node::Stub>>& PeerStatusStubs() {
  static std::map<std::string, std::shared_ptr<swarm::v1::Node::Stub>> stubs;
  return stubs;
}
void ForgetPeerStatusChannels() {
  std::lock_guard<std::mutex> lock(PeerStatusMu());
  PeerStatusStubs().clear();
}

std::optional<nlohmann::json> PeerStatus(const std::string& address, const std::string& key) {
  std::shared_ptr<swarm::v1::Node::Stub> stub;
  {
    std::lock_guard<std::mutex> lock(PeerStatusMu());
    auto& s = PeerStatusStubs()[address];
    if (!s) {
      // Peers are polled from before they listen: keep gRPC's reconnect
      // backoff short, or a channel that failed at start-up stays in backoff
      // (growing towards minutes) and every later poll fails fast.
      net::DialOptions o;
      o.reconnect_backoff_initial_ms = 100;
      o.reconnect_backoff_max_ms = 500;
      s = swarm::v1::Node::NewStub(net::DialOrUnavailable(address, o));
    }
    stub = s;
  }
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(1500));
  swarm::v1::InfoRequest req;
  swarm::v1::InfoReply reply;
  if (!stub->Info(&ctx, req, &reply).ok()) {
    // A channel whose first connect failed (the peer was not listening yet)
    // sits in gRPC's reconnect backoff and fails every later poll fast: dial
    // afresh next time.
    std::lock_guard<std::mutex> lock(PeerStatusMu());
    auto it = PeerStatusStubs().find(address);
    if (it != PeerStatusStubs().end() && it->second == stub) PeerStatusStubs().erase(it);
    return std::nullopt;
  }
  auto j = nlohmann::json::parse(reply.status_json(), nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  if (!key.empty()) return j.contains(key) ? std::optional<nlohmann::json>(j[key]) : std::nullopt;
  return j;
}

struct SwarmResult {
  double accuracy = -1;
  int steps = 0;
  std::map<std::string, int64_t> excluded;
  double sync_mean = 0;
  std::string failure;
  std::string aggregator_summary;  // --secure-agg ckks: what the aggregator peer reported
  std::string committee_summary;   // --require-committed-root: what the committee reported
  std::string rogue_summary;       // the unadmitted rogue process's calls and their outcomes
  std::string experts_summary;     // expert hosts: per-round robust updates and refusals
  std::map<std::string, std::string> poisoned;  // trainer id -> evidence file (its NaN/Inf status)
};

// Sums the expert hosts' per-round update counters (and the Byzantine
// trainers' expert-path attack calls) into one line; "" without hosts.
std::string ExpertsSummary(const Group& hosts, const Group& trainers) {
  int64_t steps = 0, contributions = 0, clipped = 0, dropped = 0, answered = 0;
  std::map<std::string, int64_t> refused;
  std::string agg;
  for (const auto& h : hosts) {
    if (!h.alive) continue;
    auto st = PeerStatus(h.grpc, "experts");
    if (!st || !st->contains("rounds")) continue;
    ++answered;
    const auto& r = (*st)["rounds"];
    agg = r.value("aggregator", std::string());
    steps += r.value("steps", int64_t{0});
    contributions += r.value("contributions", int64_t{0});
    clipped += r.value("clipped", int64_t{0});
    dropped += r.value("rounds_dropped", int64_t{0});
    if (r.contains("refused")) {
      for (auto& [k, v] : r["refused"].items()) refused[k] += v.get<int64_t>();
    }
    if (st->contains("rejected")) {  // refused before the round: oversized, untagged, shape...
      for (auto& [k, v] : (*st)["rejected"].items()) {
        if (k == "oversized" || k == "untagged") refused[k] += v.get<int64_t>();
      }
    }
  }
  if (answered == 0) return "";
  std::ostringstream o;
  o << answered << " live host(s) applied " << steps << " robust per-round steps (" << agg << ") from "
    << contributions << " Backward contributions, " << clipped << " clipped to clip_norm, " << dropped
    << " rounds below quorum; refused";
  bool any = false;
  for (const auto& [k, v] : refused) {
    if (v > 0) {
      o << " " << k << "=" << v;
      any = true;
    }
  }
  if (!any) o << " none";
  int64_t checks = 0, answered_checks = 0, mismatches = 0;
  for (const auto& t : trainers) {
    if (!t.alive) continue;
    auto st = PeerStatus(t.grpc, "trainer");
    if (!st || !st->contains("expert_spot_checks")) continue;
    checks += (*st)["expert_spot_checks"].value("checks", int64_t{0});
    answered_checks += (*st)["expert_spot_checks"].value("answered", int64_t{0});
    mismatches += (*st)["expert_spot_checks"].value("mismatches", int64_t{0});
  }
  if (checks > 0) {
    o << "; spot checks " << checks << " (" << answered_checks << " answered by a second replica), "
      << mismatches << " mismatches";
  }
  for (const auto& t : trainers) {
    if (!t.byzantine || !t.alive) continue;
    auto st = PeerStatus(t.grpc, "trainer");
    if (!st || !st->contains("expert_attack_calls")) continue;
    const auto& a = (*st)["expert_attack_calls"];
    o << "; byzantine " << t.id << " sent " << a.value("replayed", int64_t{0}) << " replayed + "
      << a.value("oversized", int64_t{0}) << " oversized expert calls, " << a.value("accepted_by_hosts", int64_t{0})
      << " accepted";
  }
  return o.str();
}

// The summary line of the secure aggregator's status, or why there is none.
std::string AggregatorSummary(const Child& a) {
  auto s = PeerStatus(a.grpc, "trainer");
  if (!s) return absl::StrCat("aggregator ", a.id, " did not answer");
  std::ostringstream o;
  o << "aggregator " << a.id << " (CKKS N = " << PeerInt(*s, "ckks_n", 0) << ", secret_key_loaded="
    << (PeerBool(*s, "secret_key_loaded", true) ? "true" : "false") << ") summed " << PeerInt(*s, "rounds_summed", 0)
    << " rounds, " << PeerInt(*s, "contributions_summed", 0) << " encrypted contributions of d = "
    << PeerInt(*s, "dim", 0) << " values; rounds below quorum "
    << PeerInt(*s, "rounds_failed", 0) << "; bytes in " << PeerInt(*s, "bytes_in", 0) << ", out "
    << PeerInt(*s, "bytes_out", 0) << "; excluded";
  bool any = false;
  if (s->contains("excluded") && (*s)["excluded"].is_object()) {
    for (auto& [k, v] : (*s)["excluded"].items()) {
      if (PeerInt(v, 0) > 0) {
        o << " " << k << "=" << PeerInt(v, 0);
        any = true;
      }
    }
  }
  if (!any) o << " none";
  return o.str();
}

// Watches trainers until every honest live one is done; kills on schedule.
SwarmResult Watch(Group& trainers, Group& hosts, int steps, const TrainFlags& f,
                  const std::string& label) {
  const bool tty = isatty(STDOUT_FILENO);
  SwarmResult res;
  const auto start = std::chrono::steady_clock::now();
  int last_printed = -1;
  bool final_printed = false;
  bool host_killed = false, trainer_killed = false;
  // The last status each trainer gave and when: on a loaded machine a busy
  // peer may miss one poll's deadline, and must not count as gone (or let the
  // run end before it is done) for that.
  std::vector<std::optional<nlohmann::json>> last(trainers.size());
  std::vector<std::chrono::steady_clock::time_point> last_seen(trainers.size());
  for (;;) {
    trainers.Reap();
    hosts.Reap();
    int step_min = steps, step_max = 0, alive = 0, done = 0, honest_alive = 0, byz = 0, silent = 0;
    double loss = 0, acc = -1;
    int nloss = 0;
    std::vector<std::string> non_finite;  // trainers whose loss/accuracy was NaN/Inf this poll
    int64_t peers_alive = 0;
    std::map<std::string, int64_t> excluded;
    double sync = 0;
    int nsync = 0;
    // Ask every trainer at once: a busy peer must not delay the others' answers.
    std::vector<std::future<std::optional<nlohmann::json>>> asks;
    for (auto& t : trainers) {
      const bool skip = !t.alive && t.pid > 0;
      asks.push_back(std::async(std::launch::async, [addr = t.grpc, skip]() -> std::optional<nlohmann::json> {
        if (skip) return std::nullopt;
        return PeerStatus(addr, "trainer");
      }));
    }
    const auto now = std::chrono::steady_clock::now();
    for (size_t ti = 0; ti < trainers.size(); ++ti) {
      auto& t = trainers[ti];
      if (auto answer = asks[ti].get()) {
        last[ti] = std::move(answer);
        last_seen[ti] = now;
      }
      // A peer we spawned is alive while its process is; a watched one while
      // it answered within the last few seconds.
      const bool is_alive = t.pid > 0 ? t.alive : (last[ti] && now - last_seen[ti] < std::chrono::seconds(5));
      if (!is_alive) continue;
      if (!last[ti]) {
        ++silent;  // started, not answered yet
        continue;
      }
      const nlohmann::json* s = &*last[ti];
      ++alive;
      const bool is_byz = PeerBool(*s, "byzantine", false);
      byz += is_byz;
      if (is_byz) continue;
      ++honest_alive;
      const std::string state = PeerString(*s, "state");
      if (state == "failed") {
        res.failure = t.id + ": " + PeerString(*s, "error", "failed");
      }
      const int step = static_cast<int>(std::clamp<int64_t>(PeerInt(*s, "step", 0), 0, steps));
      step_min = std::min(step_min, step);
      step_max = std::max(step_max, step);
      if (state == "done") ++done;
      // A NaN/Inf loss or accuracy (JSON null) is reported as such, with the
      // peer's status kept as evidence; it never enters the means.
      bool poisoned = false;
      const double l = PeerDouble(*s, "loss", 0.0, &poisoned);
      const double a = PeerDouble(*s, "accuracy", -1.0, &poisoned);
      if (poisoned) {
        non_finite.push_back(t.id);
        if (!res.poisoned.count(t.id)) {
          // A watched peer (--peers) has no directory of ours: --dir, else the temp dir.
          std::string where = t.dir;
          if (where.empty()) where = f.dir.empty() ? std::filesystem::temp_directory_path().string() : f.dir;
          std::string name = t.id;
          std::replace_if(name.begin(), name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
          const std::string evidence =
              absl::StrCat(where, "/poisoned-status-", t.dir.empty() ? name + "-" : "", "step", step, ".json");
          std::ofstream(evidence) << s->dump(2) << "\n";
          res.poisoned[t.id] = evidence;
          if (tty) std::cout << "\n";
          std::cout << "== trainer " << t.id << " reported a non-finite loss or accuracy (NaN/Inf) at step " << step
                    << "; its status is kept in " << evidence << std::endl;
        }
      } else {
        loss += l;
        ++nloss;
      }
      if (acc < 0 && a >= 0) acc = a;
      peers_alive = std::max<int64_t>(peers_alive, PeerInt(*s, "peers_alive", 0));
      if (s->contains("excluded") && (*s)["excluded"].is_object()) {
        for (auto& [k, v] : (*s)["excluded"].items()) excluded[k] = std::max<int64_t>(excluded[k], PeerInt(v, 0));
      }
      sync += PeerDouble(*s, "sync_seconds_mean", 0.0);
      ++nsync;
    }
    int hosts_alive = 0;
    for (auto& h : hosts) hosts_alive += h.alive;
    if (honest_alive > 0) {
      std::ostringstream line;
      line << label << " " << Bar(static_cast<double>(step_min) / steps) << " step " << step_min << "/" << steps
           << "  loss " << std::fixed << std::setprecision(4) << (nloss ? loss / nloss : 0.0);
      if (!non_finite.empty()) line << " (non-finite from " << absl::StrJoin(non_finite, ",") << ")";
      if (acc >= 0) line << "  acc " << std::setprecision(2) << 100.0 * acc << "%";
      line << "  trainers alive " << alive << " (" << byz << " byzantine), averaging with " << peers_alive;
      if (!hosts.empty()) line << "  expert hosts " << hosts_alive << "/" << hosts.size();
      // On a terminal the bar redraws in place; in a log, one line per ~1/30 of the run,
      // and a last one once every trainer has answered at the final step (a line printed
      // while some were still silent would undercount the live trainers).
      const int every = std::max(1, steps / 30);
      const bool final_line = step_min == steps && silent == 0 && !final_printed;
      if (tty || last_printed < 0 || step_min >= last_printed + every || final_line) {
        Line(line.str(), tty);
        last_printed = step_min;
        final_printed |= final_line;
      }
      res.accuracy = acc;
      res.steps = step_min;
      res.excluded = excluded;
      res.sync_mean = nsync ? sync / nsync : 0;
    }
    if (!res.failure.empty()) break;
    if (honest_alive > 0 && done == honest_alive && silent == 0) break;
    if (f.kill_expert_host_at > 0 && honest_alive > 0 && !host_killed && step_max >= f.kill_expert_host_at &&
        !hosts.empty() &&
        hosts[0].alive) {
      if (tty) std::cout << "\n";
      std::cout << "== SIGKILL expert host " << hosts[0].id << " (pid " << hosts[0].pid << ") at step "
                << step_max << std::endl;
      hosts.Kill(hosts[0], SIGKILL);
      host_killed = true;
    }
    if (f.kill_trainer_at > 0 && honest_alive > 0 && !trainer_killed && step_max >= f.kill_trainer_at &&
        trainers.back().alive) {
      if (tty) std::cout << "\n";
      std::cout << "== SIGKILL trainer " << trainers.back().id << " (pid " << trainers.back().pid << ") at step "
                << step_max << std::endl;
      trainers.Kill(trainers.back(), SIGKILL);
      trainer_killed = true;
    }
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (elapsed > f.timeout_s) {
      res.failure = absl::StrCat("timed out after ", f.timeout_s, " s at step ", step_min);
      break;
    }
    if (alive == 0 && elapsed > 60) {
      res.failure = "no trainer answers";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (tty) std::cout << "\n";
  return res;
}

StatusOr<SwarmResult> RunLocalSwarm(const TrainFlags& f, const train::ExperimentConfig& cfg,
                                    const std::vector<std::string>& job_sets, int byzantine,
                                    const std::string& label, const std::string& dir) {
  const std::string self = SelfExe();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat("--dir '", dir, "': ", ec.message()));
#if SWARM_HAVE_NODE_EXPERTS
  const int hosts_n = f.expert_hosts < 0 ? 3 : f.expert_hosts;
#else
  const int hosts_n = f.expert_hosts < 0 ? 0 : f.expert_hosts;
#endif
  Group hosts(TrainReport()), trainers(TrainReport());
  for (int i = 0; i < hosts_n; ++i) {
    hosts.Add(MakeChild("e" + std::to_string(i), "127.0.0.1:" + std::to_string(FreePort()), dir + "/e" + std::to_string(i)));
  }
  for (int i = 0; i < cfg.trainers; ++i) {
    trainers.Add(MakeChild("t" + std::to_string(i), "127.0.0.1:" + std::to_string(FreePort()),
                           dir + "/t" + std::to_string(i)));
    trainers.back().byzantine = i < byzantine;
  }
  std::vector<std::string> host_addrs, trainer_addrs;
  for (auto& h : hosts) host_addrs.push_back(h.grpc);
  for (auto& t : trainers) trainer_addrs.push_back(t.grpc);
  const bool secure = f.secure_agg == "ckks";
  Group aggregators(TrainReport());  // the secure aggregator, when secure
  if (secure) {
    // The group's keys for this run: trainers get all of it, the aggregator
    // only the public files.
    SWARM_ASSIGN_OR_RETURN(fhe::ParamSpec spec,
                           train::SecureAggParams(static_cast<size_t>(cfg.trainers), f.secure_agg_clip));
    SWARM_ASSIGN_OR_RETURN(fhe::KeySet keys, fhe::GenerateKeySet(spec, {.relin_key = false, .galois_keys = false}));
    SWARM_RETURN_IF_ERROR(fhe::SaveKeySet(dir + "/fhe-keys", keys, /*overwrite=*/true));
    SWARM_RETURN_IF_ERROR(fhe::SaveEvalKeys(dir + "/fhe-public", keys.eval, /*overwrite=*/true));
    aggregators.Add(MakeChild("a0", "127.0.0.1:" + std::to_string(FreePort()), dir + "/a0"));
    std::cout << label << ": secure aggregation: CKKS N = " << spec.poly_degree << " keys " << fhe::KeyIdHex(keys.eval.key_id)
              << " in " << dir << "/fhe-keys (trainers); aggregator " << aggregators[0].id
              << " gets only the public files (" << dir << "/fhe-public); values clipped to +-" << f.secure_agg_clip
              << std::endl;
  }
  // This run is the issuer of its swarm: each peer gets an identity and a grant
  // for the roles its job needs (local_admission.h); --node-set may override.
  SWARM_ASSIGN_OR_RETURN(LocalIssuer issuer, LocalIssuer::Create(dir, f.join));
  // The peers enforce admission: this tool's status polls sign with the run's
  // operator grant (cli/credentials.h); channels dialed for an earlier run
  // (another issuer) are dropped.
  SWARM_RETURN_IF_ERROR(UseRunCredentials(dir));
  ForgetPeerStatusChannels();
  using admission::Role;
  auto roles = [](std::initializer_list<Role> rs) {
    admission::RoleSet set = 0;
    for (Role r : rs) set |= static_cast<admission::RoleSet>(r);
    return set;
  };
  Status admit_error;
  auto base_args = [&](const Child& c, admission::RoleSet peer_roles) {
    std::filesystem::create_directories(c.dir, ec);
    std::vector<std::string> a = {self, "node", "--id", c.id, "--grpc-listen", c.grpc, "--http-listen",
                                  "127.0.0.1:0", "--data-dir", c.dir, "--log-level", f.log_level};
    auto admitted = issuer.Admit(c.dir, peer_roles, c.grpc, 1.0, "", f.operator_name);
    if (admitted.ok()) a.insert(a.end(), admitted->begin(), admitted->end());
    else if (admit_error.ok()) admit_error = admitted.status();
    for (const auto& s : f.node_sets) {
      a.push_back("--set");
      a.push_back(s);
    }
    return a;
  };
  for (size_t i = 0; i < hosts.size(); ++i) {
    auto a = base_args(hosts[i], roles({Role::kExpertHost}));
    if (i > 0) {
      a.push_back("--seed");
      a.push_back(hosts[0].grpc);
    }
    for (const std::string& s :
         {std::string("experts.host=true"), absl::StrCat("ring.experts=", cfg.model.num_experts),
          absl::StrCat("ring.replicas=", std::min<int>(2, hosts_n)),
          absl::StrCat("experts.d_model=", cfg.model.d_model),
          absl::StrCat("experts.hidden=", cfg.model.expert_hidden),
          absl::StrCat("experts.layers=", cfg.model.expert_layers),
          // One robust step per round over the trainers' parameter gradients
          // (experts.update = round): SGD with the trainers' momentum beta and
          // lr (1 - beta) matches one step of lr on the aggregate of the
          // trainers' EMA momenta. The job's aggregator and f apply here too.
          std::string("experts.optimizer=sgd"), absl::StrCat("experts.momentum=", cfg.worker_momentum),
          absl::StrCat("experts.lr=", cfg.lr * (1.0 - cfg.worker_momentum)),
          std::string("experts.update=round"),
          absl::StrCat("experts.aggregator=", cfg.aggregator.name),
          absl::StrCat("experts.bucket_size=", cfg.aggregator.bucket_size),
          absl::StrCat("experts.byzantine=", cfg.byzantine),
          absl::StrCat("experts.quorum=", std::max(1, cfg.trainers - cfg.byzantine - 1)),
          absl::StrCat("experts.round_deadline_ms=", f.round_deadline_ms),
          std::string("membership.probe_interval_ms=300"),
          std::string("membership.probe_timeout_ms=150")}) {
      a.push_back("--set");
      a.push_back(s);
    }
    hosts.Spawn(hosts[i], a, /*single_torch_thread=*/true);
  }
  // Trainers start once every expert host answers (their first batch needs them).
  const auto hosts_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (auto& h : hosts) {
    while (!PeerStatus(h.grpc, "") && std::chrono::steady_clock::now() < hosts_deadline) {
      hosts.Reap();
      if (!h.alive) {
        hosts.StopAll();
        return absl::UnavailableError(absl::StrCat("expert host ", h.id, " exited during start-up; see ", h.dir,
                                                   "/node.log"));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  // Settings every trainer and the aggregator share.
  auto job_args = [&](std::vector<std::string>& sets) {
    sets.push_back("trainer.peers=" + TomlArray(trainer_addrs));
    sets.push_back("trainer.job_set=" + TomlArray(job_sets));
    sets.push_back(absl::StrCat("trainer.round_deadline_ms=", f.round_deadline_ms));
    if (!f.config_file.empty()) {
      sets.push_back("trainer.job=" + std::filesystem::absolute(f.config_file).string());
    }
    if (!hosts.empty()) {
      sets.push_back("trainer.experts=remote");
      sets.push_back("trainer.expert_hosts=" + TomlArray(host_addrs));
    }
  };
  for (auto& ag : aggregators) {
    auto a = base_args(ag, roles({Role::kAggregator}));
    std::vector<std::string> sets = {"trainer.enabled=true", "membership.enabled=false", "trainer.role=aggregator",
                                     "trainer.secure_agg=ckks", "trainer.secure_agg_keys=" + dir + "/fhe-public"};
    job_args(sets);
    for (const auto& s : sets) {
      a.push_back("--set");
      a.push_back(s);
    }
    aggregators.Spawn(ag, a, /*single_torch_thread=*/true);
  }
  // --require-committed-root: a PBFT committee of 4 (f = 1) orders the
  // trainers' train.round records; trainers apply a round only once its
  // result root is committed (trainer.require_committed_root).
  Group committee(TrainReport());
  std::vector<std::string> committee_addrs;
  if (f.require_committed_root) {
    for (int i = 0; i < 4; ++i) {
      committee.Add(MakeChild("c" + std::to_string(i), "127.0.0.1:" + std::to_string(FreePort()),
                              dir + "/c" + std::to_string(i)));
      committee_addrs.push_back(committee.back().grpc);
    }
    for (auto& c : committee) {
      auto a = base_args(c, roles({Role::kCommittee, Role::kClient}));
      for (const std::string& s : {std::string("consensus.enabled=true"), std::string("membership.enabled=false"),
                                   "consensus.committee=" + TomlArray(committee_addrs)}) {
        a.push_back("--set");
        a.push_back(s);
      }
      committee.Spawn(c, a, /*single_torch_thread=*/true);
    }
    const auto committee_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (auto& c : committee) {
      while (!PeerStatus(c.grpc, "consensus") && std::chrono::steady_clock::now() < committee_deadline) {
        committee.Reap();
        if (!c.alive) {
          committee.StopAll();
          aggregators.StopAll();
          hosts.StopAll();
          return absl::UnavailableError(absl::StrCat("committee member ", c.id,
                                                     " exited during start-up (is consensus/ built?); see ", c.dir,
                                                     "/node.log"));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
    std::cout << label << ": PBFT committee of " << committee.size() << " (f = 1) on loopback; trainers apply a "
              << "round only after its result root is committed" << std::endl;
  }
  for (auto& t : trainers) {
    if (!f.resume) std::filesystem::remove(t.dir + "/trainer/checkpoint.pt", ec);
    auto a = base_args(t, f.require_committed_root ? roles({Role::kTrainer, Role::kClient})
                                                   : roles({Role::kTrainer}));
    std::vector<std::string> sets = {"trainer.enabled=true", "membership.enabled=false",
                                     absl::StrCat("trainer.byzantine=", t.byzantine ? "true" : "false"),
                                     absl::StrCat("trainer.resume=", f.resume ? "true" : "false")};
    job_args(sets);
    if (f.require_committed_root) {
      sets.push_back("trainer.require_committed_root=true");
      sets.push_back("trainer.consensus_peers=" + TomlArray(committee_addrs));
    }
    if (secure) {
      sets.push_back("trainer.secure_agg=ckks");
      sets.push_back("trainer.secure_agg_keys=" + dir + "/fhe-keys");
      sets.push_back("trainer.aggregator=" + aggregators[0].grpc);
      sets.push_back(absl::StrCat("trainer.secure_agg_clip=", f.secure_agg_clip));
    }
    for (const auto& s : sets) {
      a.push_back("--set");
      a.push_back(s);
    }
    trainers.Spawn(t, a, /*single_torch_thread=*/true);
  }
  if (!admit_error.ok()) {
    trainers.StopAll();
    committee.StopAll();
    aggregators.StopAll();
    hosts.StopAll();
    return admit_error;
  }
  std::cout << label << ": " << issuer.Summary() << std::endl;
  std::cout << label << ": " << hosts.size() << " expert host(s)"
            << (hosts.empty() ? " (experts local to each trainer, averaged)" : "") << " + " << trainers.size()
            << " trainer peers (" << byzantine << " byzantine) on loopback; logs in " << dir << "/*/node.log"
            << std::endl;
  // The outsider: a fresh valid key, no grant, calling Backward/Forward on every
  // expert host for the whole run (swarm experts rogue). Only in the attacked run.
  ChildGroup<Child> rogues(TrainReport());
  const std::string rogue_report = dir + "/rogue/report.json";
  if (f.rogue && byzantine > 0 && !hosts.empty()) {
    std::filesystem::create_directories(dir + "/rogue");
    std::vector<std::string> a = {self, "experts", "rogue", "--seconds", "100000", "--report", rogue_report,
                                  "--experts", std::to_string(cfg.model.num_experts), "--d-model",
                                  std::to_string(cfg.model.d_model)};
    for (auto& h : hosts) {
      a.push_back("--peer");
      a.push_back(h.grpc);
    }
    auto& rc = rogues.Add(MakeChild("rogue", "", dir + "/rogue"));
    rogues.Spawn(rc, a);
    std::cout << label << ": rogue process (fresh valid key, no admission grant) calls the " << hosts.size()
              << " expert hosts throughout the run" << std::endl;
  }
  SwarmResult r = Watch(trainers, hosts, cfg.steps, f, label);
  if (!rogues.empty()) {
    rogues.StopAll();
    std::ifstream in(rogue_report);
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_object() && j.contains("outcomes") && j["outcomes"].is_object()) {
      int64_t accepted = 0, refused = 0, unanswered = 0;
      std::string reasons;
      for (auto& [k, v] : j["outcomes"].items()) {
        if (!v.is_number_integer()) continue;
        if (k == "accepted") {
          accepted += v.get<int64_t>();
        } else if (k == "unanswered") {
          unanswered += v.get<int64_t>();
        } else {
          refused += v.get<int64_t>();
          reasons += absl::StrCat(reasons.empty() ? "" : ", ", k, " ", v.get<int64_t>());
        }
      }
      r.rogue_summary = absl::StrCat(accepted + refused + unanswered, " calls to the expert hosts: ", refused,
                                     " refused (", reasons.empty() ? "none" : reasons, "), ", unanswered,
                                     " unanswered (host down or slow), ", accepted, " accepted");
    } else {
      r.rogue_summary = "no report (see " + dir + "/rogue/node.log)";
    }
  }
  if (secure) r.aggregator_summary = AggregatorSummary(aggregators[0]);
  r.experts_summary = ExpertsSummary(hosts, trainers);
  if (!committee.empty()) {
    int64_t roots = 0;
    for (auto& t : trainers) {
      if (auto st = PeerStatus(t.grpc, "trainer")) roots = std::max<int64_t>(roots, PeerInt(*st, "roots_committed", 0));
    }
    std::string heads;
    for (auto& c : committee) {
      auto st = PeerStatus(c.grpc, "consensus");
      if (!st) continue;
      heads += absl::StrCat(heads.empty() ? "" : ", ", c.id, " ", PeerInt(*st, "ledger_size", 0), " records head ",
                            PeerString(*st, "ledger_head").substr(0, 12));
    }
    r.committee_summary = absl::StrCat(roots, " round roots committed before being applied; ledgers: ", heads);
  }
  // Let the aggregator drain while the trainers do.
  for (auto& a : aggregators) aggregators.Kill(a, SIGTERM);
  trainers.StopAll();
  committee.StopAll();
  aggregators.StopAll();
  hosts.StopAll();
  return r;
}

void PrintSwarmSummary(const SwarmResult& r) {
  std::cout << "averaging: mean round " << std::fixed << std::setprecision(3) << r.sync_mean << " s; excluded";
  bool any = false;
  for (const auto& [k, v] : r.excluded) {
    if (v > 0) {
      std::cout << " " << k << "=" << v;
      any = true;
    }
  }
  if (!any) std::cout << " none";
  std::cout << "\n";
  if (!r.aggregator_summary.empty()) std::cout << "secure aggregation: " << r.aggregator_summary << "\n";
  for (const auto& [id, evidence] : r.poisoned) {
    std::cout << "poisoned: trainer " << id << " reported a non-finite loss or accuracy; evidence " << evidence
              << "\n";
  }
  if (!r.committee_summary.empty()) std::cout << "committee: " << r.committee_summary << "\n";
  if (!r.experts_summary.empty()) std::cout << "experts: " << r.experts_summary << "\n";
  if (!r.rogue_summary.empty()) std::cout << "rogue (valid key, no grant): " << r.rogue_summary << "\n";
}

int RunTrain(const TrainFlags& f) {
  const ConfigSchema& schema = TrainSchema();
  if (f.print_config) {
    std::cout << schema.ExampleToml();
    return 0;
  }
  Config config = schema.Defaults();
  if (!f.config_file.empty()) {
    auto c = schema.ParseFile(f.config_file);
    if (!c.ok()) Fail("train", c.status(), kExitUsage);
    config = *c;
  }
  auto with = schema.ApplyOverrides(config, f.sets);
  if (!with.ok()) Fail("train", with.status(), kExitUsage);
  auto cfg = train::ExperimentConfigFromConfig(*with);
  if (!cfg.ok()) Fail("train", cfg.status(), kExitUsage);
  if (cfg->eval_every == 0) cfg->eval_every = std::max(1, cfg->steps / 10);
  if (f.secure_agg == "ckks") {
    // Robust rules compare individual contributions, which this path hides.
    if (cfg->aggregator.name != "mean") {
      Fail("train",
           absl::InvalidArgumentError(absl::StrCat(
               "--secure-agg ckks needs aggregator.name = mean, not ", cfg->aggregator.name,
               ": robust aggregators need the plaintext contributions that encrypted averaging hides")),
           kExitUsage);
    }
    if (f.in_process || !f.peers.empty() || f.resume) {
      Fail("train",
           absl::InvalidArgumentError(
               "--secure-agg ckks runs on a fresh local swarm; it cannot be combined with --in-process, --peers or "
               "--resume"),
           kExitUsage);
    }
    auto spec = train::SecureAggParams(static_cast<size_t>(cfg->trainers), f.secure_agg_clip);
    if (!spec.ok()) Fail("train", spec.status(), kExitUsage);
  }
  if (f.require_committed_root && (f.in_process || !f.peers.empty())) {
    Fail("train",
         absl::InvalidArgumentError("--require-committed-root spawns its committee with a local swarm; it cannot be "
                                    "combined with --in-process or --peers (set trainer.require_committed_root on "
                                    "your trainer peers instead)"),
         kExitUsage);
  }
  nn::DataConfig data_config = nn::DataConfigFromConfig(*with);

  if (!f.in_process) {
    if (!std::filesystem::exists(data_config.path)) {
      Fail("train", absl::NotFoundError(absl::StrCat("data.path = '", data_config.path,
                                                     "' does not exist (run scripts/setup for digits)")),
           kExitUsage);
    }
    std::vector<std::string> job_sets = f.sets;
    job_sets.push_back("data.path=" + std::filesystem::absolute(data_config.path).string());
    job_sets.push_back(absl::StrCat("train.eval_every=", cfg->eval_every));
    if (!f.peers.empty()) {
      Group watched, none;
      for (auto& p : absl::StrSplit(f.peers, ',')) watched.Add(MakeChild(std::string(p), std::string(p), ""));
      SwarmResult r = Watch(watched, none, cfg->steps, f, "trainers");
      if (!r.failure.empty()) Fail("train", absl::UnavailableError(r.failure), kExitRuntime);
      PrintSwarmSummary(r);
      std::cout << "test accuracy: " << std::fixed << std::setprecision(2) << 100.0 * r.accuracy << "%" << std::endl;
      return 0;
    }
    const std::string dir = f.dir.empty() ? std::filesystem::temp_directory_path().string() + "/swarm-train-" +
                                                std::to_string(getpid())
                                          : std::filesystem::absolute(f.dir).string();
    std::cout << "train: " << cfg->trainers << " trainers (" << cfg->byzantine << " byzantine, attack "
              << cfg->EffectiveAttack().name << "), aggregator " << cfg->EffectiveAggregator().name << ", "
              << cfg->steps << " steps of batch " << cfg->batch_size << " per trainer";
    if (f.secure_agg == "ckks") {
      std::cout << ", secure aggregation: CKKS-encrypted sum";
      if (cfg->byzantine > 0) {
        std::cout << " (NOT robust: the " << cfg->byzantine
                  << " byzantine trainer(s) are averaged in by the plain mean; robust aggregators need plaintext)";
      }
    }
    std::cout << std::endl;
    std::optional<double> clean;
    if (f.clean_baseline && cfg->byzantine > 0) {
      auto c = RunLocalSwarm(f, *cfg, job_sets, 0, "clean   ", dir + "/clean");
      if (!c.ok()) Fail("train", c.status(), kExitRuntime);
      if (!c->failure.empty()) Fail("train", absl::UnavailableError(c->failure), kExitRuntime);
      clean = c->accuracy;
      std::cout << "clean run (same distributed job, no byzantine trainer): test accuracy " << std::fixed
                << std::setprecision(2) << 100.0 * c->accuracy << "%" << std::endl;
    }
    auto r = RunLocalSwarm(f, *cfg, job_sets, cfg->byzantine, cfg->byzantine > 0 ? "attacked" : "clean   ",
                           dir + "/run");
    if (!r.ok()) Fail("train", r.status(), kExitRuntime);
    if (!r->failure.empty()) Fail("train", absl::UnavailableError(r->failure), kExitRuntime);
    PrintSwarmSummary(*r);
    std::cout << "test accuracy: " << std::fixed << std::setprecision(2) << 100.0 * r->accuracy << "%";
    if (clean) std::cout << " (clean run: " << 100.0 * *clean << "%)";
    std::cout << std::endl;
    return r->accuracy >= 0 ? 0 : kExitRuntime;
  }

  auto data = train::LoadExperimentData(data_config);
  if (!data.ok()) Fail("train", data.status(), kExitUsage);
  std::cout << "train (in-process): " << data->train.size() << " train / " << data->test.size()
            << " test rows from " << data_config.path << "; " << cfg->trainers << " trainers ("
            << cfg->byzantine << " byzantine, attack " << cfg->EffectiveAttack().name << "), aggregator "
            << cfg->EffectiveAggregator().name << std::endl;
  std::optional<double> clean;
  if (f.clean_baseline && cfg->byzantine > 0) {
    train::ExperimentConfig c = *cfg;
    c.byzantine = 0;
    auto r = RunInProcess(c, *data, "clean   ");
    if (!r.ok()) Fail("train", r.status(), kExitRuntime);
    clean = r->test_accuracy;
  }
  auto r = RunInProcess(*cfg, *data, cfg->byzantine > 0 ? "attacked" : "clean   ");
  if (!r.ok()) Fail("train", r.status(), kExitRuntime);
  std::cout << "contributions excluded (non-finite): " << r->contributions_excluded
            << ", tokens dropped over capacity: " << r->tokens_dropped
            << ", parameters: " << r->parameters << (r->diverged ? ", DIVERGED" : "") << "\n";
  std::cout << "test accuracy: " << std::fixed << std::setprecision(2) << 100.0 * r->test_accuracy << "%";
  if (clean) std::cout << " (clean run: " << 100.0 * *clean << "%)";
  std::cout << std::endl;
  return r->diverged ? kExitRuntime : 0;
}

}  // namespace

void AddTrainCommand(CLI::App& app) {
  auto f = std::make_shared<TrainFlags>();
  auto* cmd = app.add_subcommand(
      "train",
      "Train a Mixture-of-Experts classifier with n trainer peers, f of them Byzantine, whose updates go "
      "through a robust aggregator.\n\nExamples:\n"
      "  swarm train --set train.trainers=4 --set train.byzantine=1 --set attack.name=alie \\\n"
      "              --set aggregator.name=centered_clip --clean-baseline\n"
      "  swarm train --print-config > moe.toml    # every key: model, data, trainers, aggregator, attack\n"
      "  swarm train --config moe.toml [--resume]\n"
      "  swarm train --in-process ...             # trainers and experts in this process\n"
      "By default a local swarm on loopback: expert hosts (when built) and train.trainers trainer peers "
      "(`swarm node` processes averaging over signed envelopes). The data set defaults to "
      "data/digits.csv.gz (scripts/setup).");
  cmd->add_option("-c,--config", f->config_file, "TOML config of the job")->check(CLI::ExistingFile);
  cmd->add_option("--set", f->sets, "Override a job key, key=value; repeatable");
  cmd->add_flag("--print-config", f->print_config, "Print every key with its default and exit");
  cmd->add_flag("--clean-baseline", f->clean_baseline,
                "First train with no Byzantine trainer (same setup) and print both accuracies");
  cmd->add_flag("--in-process", f->in_process, "Trainers, aggregator and experts in this process");
  cmd->add_flag("--resume", f->resume, "Trainers continue from their checkpoints under --dir");
  cmd->add_option("--peers", f->peers, "Watch already-running trainer peers (gRPC addresses, comma-separated)");
  cmd->add_option("--expert-hosts", f->expert_hosts,
                  "Expert host peers to spawn; 0 = experts local to the trainers (default 3 when built)");
  cmd->add_option("--dir", f->dir, "State and logs of the local swarm (default a temp dir)");
  cmd->add_option("--kill-expert-host-at", f->kill_expert_host_at, "SIGKILL expert host e0 at this step");
  cmd->add_option("--join", f->join,
                  "The --dir of a running `swarm up` whose peers this run's peers call (e.g. its committee via "
                  "trainer.consensus_peers): this run's grants are issued by that swarm's issuer");
  cmd->add_flag("--rogue", f->rogue,
                "During the attacked run, start an outsider process (a fresh valid key, no admission grant) "
                "that calls Backward/Forward on every expert host; the summary counts its refused calls");
  cmd->add_option("--kill-trainer-at", f->kill_trainer_at, "SIGKILL the last trainer at this step");
  cmd->add_option("--round-deadline-ms", f->round_deadline_ms, "Averaging round deadline")->capture_default_str();
  cmd->add_option("--operator", f->operator_name,
                  "Operator name in every spawned peer's grant (default: each peer its own, local-<id>; one name "
                  "groups them as one machine for placement caps and job votes)");
  cmd->add_option("--node-set", f->node_sets, "Extra config override for every spawned peer; repeatable");
  cmd->add_option("--log-level", f->log_level, "Spawned peers' log level")->capture_default_str();
  cmd->add_option("--timeout", f->timeout_s, "Give up after this many seconds")->capture_default_str();
  cmd->add_option("--secure-agg", f->secure_agg,
                  "ckks: trainers send CKKS-encrypted contributions to an aggregator peer holding no secret key; "
                  "needs aggregator.name = mean (docs/fhe.md)")
      ->check(CLI::IsMember({"off", "ckks"}))
      ->capture_default_str();
  cmd->add_option("--secure-agg-clip", f->secure_agg_clip,
                  "With --secure-agg ckks: clip each contribution value to [-clip, clip] before encrypting")
      ->capture_default_str();
  cmd->add_flag("--require-committed-root", f->require_committed_root,
                "Spawn a 4-member PBFT committee; each trainer applies a round only after its result root "
                "(a signed train.round ledger record) is committed (docs/pbft.md)");
  cmd->callback([f] {
    const int code = RunTrain(*f);
    if (code) throw CLI::RuntimeError(code);
  });
}

}  // namespace swarm::cli
