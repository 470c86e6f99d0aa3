// `swarm experts drive|info`: exercise and inspect experts hosted by peers
// (node/experts/extension.h). Compiled in when the experts extension is
// (SWARM_HAVE_NODE_EXPERTS); torch-free itself (nn/expert_drive.h).
#if defined(SWARM_HAVE_NODE_EXPERTS)

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/credentials.h"
#include "crypto/identity.h"
#include "net/dial.h"
#include "nn/tensor_codec.h"
#include "swarm/v1/expert.grpc.pb.h"
#include "nn/expert_drive.h"
#include "nn/remote_experts.h"

namespace swarm::cli {

void AddExpertsCommand(CLI::App& app);

namespace {

struct DriveFlags {
  std::vector<std::string> peers;
  std::string experts = "0,1,2,3";
  int64_t d_model = 64, batch = 32, steps = 20;
  double seconds = 0;
  int64_t deadline_ms = 2000, refresh_ms = 500;
  std::string wire = "f32";
  uint64_t seed = 1;
  bool json = false;
  double rogue_grad = 0;
};

StatusOr<std::vector<uint32_t>> ParseExpertList(const std::string& s) {
  std::vector<uint32_t> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      const unsigned long v = std::stoul(item, &used);
      if (used != item.size() || v > UINT32_MAX) throw std::invalid_argument(item);
      out.push_back(static_cast<uint32_t>(v));
    } catch (const std::exception&) {
      return absl::InvalidArgumentError(absl::StrCat("--experts: '", item, "' is not an expert id"));
    }
  }
  return out;
}

void RunDrive(const DriveFlags& f) {
  nn::DriveOptions o;
  o.peers = f.peers;
  auto ids = ParseExpertList(f.experts);
  if (!ids.ok()) Fail("experts drive", ids.status(), kExitUsage);
  o.experts = *ids;
  o.d_model = f.d_model;
  o.batch = f.batch;
  o.steps = f.steps;
  o.seconds = f.seconds;
  o.refresh = Millis(f.refresh_ms);
  o.seed = f.seed;
  o.rogue_grad = f.rogue_grad;
  o.remote.call_deadline = Millis(f.deadline_ms);
  o.remote.wire_dtype = f.wire;
  if (auto s = o.Validate(); !s.ok()) Fail("experts drive", s, kExitUsage);
  auto r = nn::DriveExperts(o);
  if (!r.ok()) Fail("experts drive", r.status(), kExitRuntime);
  if (f.json) {
    std::cout << r->ToJson().dump() << std::endl;
  } else {
    std::cout << "steps " << r->steps << ", expert-steps " << r->expert_steps << ", masked "
              << r->masked << " (longest run " << r->max_consecutive_masked << "), fail-overs "
              << r->failovers << ", loss " << r->loss_first << " -> " << r->loss_last << ", "
              << static_cast<int64_t>(r->tokens_per_second) << " tokens/s" << std::endl;
  }
  if (r->masked == r->expert_steps) {
    Fail("experts drive", absl::UnavailableError("no expert answered in any step"), kExitRuntime);
  }
}

void RunInfo(const std::string& peer, bool json) {
  auto info = nn::QueryExpertHost(peer, Seconds(3));
  if (!info.ok()) Fail("experts info", info.status(), kExitRuntime);
  nlohmann::json j = {{"peer", peer}, {"experts", nlohmann::json::array()}, {"rejected", info->rejected}};
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : info->experts) {
    j["experts"].push_back({{"id", e.id}, {"d_model", e.d_model}, {"hidden", e.hidden},
                            {"steps_applied", e.steps_applied}, {"forwards", e.forwards}});
    rows.push_back({std::to_string(e.id), std::to_string(e.d_model), std::to_string(e.hidden),
                    std::to_string(e.steps_applied), std::to_string(e.forwards)});
  }
  if (json) {
    std::cout << j.dump() << std::endl;
    return;
  }
  std::cout << FormatTable({"expert", "d_model", "hidden", "steps", "forwards"}, rows);
  for (const auto& [reason, n] : info->rejected) std::cout << "rejected " << reason << ": " << n << "\n";
}


// `swarm experts rogue`: the outsider of the demo and the red-team tests. It
// holds a freshly generated, valid ML-DSA identity and NO admission grant, and
// calls ExpertService.Backward (a constant gradient) and Forward on every
// listed host, for every expert id, until --seconds. It counts each reply by
// outcome: "accepted", or the refusal reason (the first word of the guard's
// message: not_admitted, unauthenticated, ...). With --report it rewrites that
// JSON file twice a second, so whoever started it can read it at any time.
// Calls that got no answer (host down, deadline) count as "unanswered".
struct RogueFlags {
  std::vector<std::string> peers;
  uint32_t experts = 8;
  int64_t d_model = 64;
  double grad = 1000.0;
  double seconds = 10;
  std::string report;
};

void WriteRogueReport(const std::string& path, const nlohmann::json& j) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump() << "\n";
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
}

void RunRogue(const RogueFlags& f) {
  auto id = crypto::Identity::Generate();
  if (!id.ok()) Fail("experts rogue", id.status(), kExitRuntime);
  const std::string who = id->PeerIdHex();
  auto identity = std::make_shared<const crypto::Identity>(std::move(*id));
  std::vector<std::unique_ptr<swarm::v1::ExpertService::Stub>> stubs;
  for (const auto& p : f.peers) {
    net::DialOptions o;
    o.identity = identity;  // valid key, no grant
    auto ch = net::Dial(p, o);
    if (!ch.ok()) Fail("experts rogue", ch.status(), kExitUsage);
    stubs.push_back(swarm::v1::ExpertService::NewStub(*ch));
  }
  nn::HostTensor x{{4, f.d_model}, std::vector<float>(static_cast<size_t>(4 * f.d_model), 0.5f)};
  nn::HostTensor g{{4, f.d_model}, std::vector<float>(static_cast<size_t>(4 * f.d_model), static_cast<float>(f.grad))};
  auto xb = nn::EncodeTensor(x, nn::WireDtype::kF32);
  auto gb = nn::EncodeTensor(g, nn::WireDtype::kF32);
  if (!xb.ok() || !gb.ok()) Fail("experts rogue", absl::InternalError("tensor encode failed"), kExitRuntime);
  std::map<std::string, int64_t> outcomes;
  int64_t calls = 0;
  auto count = [&](const grpc::Status& s) {
    ++calls;
    if (s.ok()) {
      ++outcomes["accepted"];
      return;
    }
    if (s.error_code() == grpc::StatusCode::UNAVAILABLE || s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      ++outcomes["unanswered"];  // host down or too slow: not a refusal
      return;
    }
    std::string m = s.error_message();
    std::string reason = m.substr(0, m.find(':'));
    if (s.error_code() == grpc::StatusCode::PERMISSION_DENIED && reason.find(' ') != std::string::npos) {
      reason = "permission_denied";
    }
    if (reason.empty() || reason.size() > 32 || reason.find(' ') != std::string::npos) {
      reason = "error_" + std::to_string(static_cast<int>(s.error_code()));
    }
    ++outcomes[reason];
  };
  auto report = [&] {
    nlohmann::json j{{"peer_id", who}, {"calls", calls}, {"outcomes", outcomes}};
    if (!f.report.empty()) WriteRogueReport(f.report, j);
    return j;
  };
  const auto start = std::chrono::steady_clock::now();
  auto last_report = start;
  uint64_t round = 1;
  while (std::chrono::steady_clock::now() - start < std::chrono::duration<double>(f.seconds)) {
    for (auto& stub : stubs) {
      for (uint32_t e = 0; e < f.experts; ++e) {
        grpc::ClientContext bctx;
        bctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
        swarm::v1::ExpertBackwardRequest breq;
        breq.set_expert_id(e);
        breq.set_x(std::string(xb->begin(), xb->end()));
        breq.set_grad_y(std::string(gb->begin(), gb->end()));
        breq.set_round(round);
        breq.set_trainer("rogue");
        swarm::v1::ExpertBackwardReply brep;
        count(stub->Backward(&bctx, breq, &brep));
        grpc::ClientContext fctx;
        fctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
        swarm::v1::ExpertForwardRequest freq;
        freq.set_expert_id(e);
        freq.set_x(std::string(xb->begin(), xb->end()));
        swarm::v1::ExpertForwardReply frep;
        count(stub->Forward(&fctx, freq, &frep));
      }
    }
    ++round;
    if (std::chrono::steady_clock::now() - last_report > std::chrono::milliseconds(500)) {
      report();
      last_report = std::chrono::steady_clock::now();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::cout << report().dump() << std::endl;
}
}  // namespace

void AddExpertsCommand(CLI::App& app) {
  auto* experts = app.add_subcommand("experts", "Drive or inspect experts hosted by peers");
  experts->require_subcommand(1);

  auto f = std::make_shared<DriveFlags>();
  auto* drive = experts->add_subcommand(
      "drive", "Train every listed expert on y = -x through the remote path, with fail-over");
  drive->add_option("--peer", f->peers, "gRPC address of a peer to read the ring from (repeatable)")
      ->required();
  drive->add_option("--experts", f->experts, "Comma-separated expert ids")->capture_default_str();
  drive->add_option("--d-model", f->d_model, "Expert width (must match experts.d_model)")
      ->capture_default_str();
  drive->add_option("--batch", f->batch, "Tokens per expert per step")->capture_default_str();
  drive->add_option("--steps", f->steps, "Steps (0 = until --seconds)")->capture_default_str();
  drive->add_option("--seconds", f->seconds, "Stop after this long (0 = no limit)");
  drive->add_option("--deadline-ms", f->deadline_ms, "Per-replica call deadline")->capture_default_str();
  drive->add_option("--refresh-ms", f->refresh_ms, "Ring refresh period")->capture_default_str();
  drive->add_option("--wire", f->wire, "Tensor dtype on the wire: f32 | f16 | int8")
      ->capture_default_str();
  drive->add_option("--seed", f->seed, "Seed of the random tokens");
  drive->add_flag("--json", f->json, "One JSON object with the report");
  drive->add_option("--rogue-grad", f->rogue_grad,
                    "Evaluation only: act as a rogue caller, sending dL/dy = this constant on every Backward "
                    "(a host with per-round robust updates clips and outvotes it; with authentication it is "
                    "refused)");
  drive->callback([f] {
    UseEnvironmentCredentialsOrExit();
    RunDrive(*f);
  });

  auto r = std::make_shared<RogueFlags>();
  auto* rogue = experts->add_subcommand(
      "rogue",
      "Red team: with a fresh valid key and no admission grant, call Backward/Forward on every listed host "
      "until --seconds; prints (and with --report keeps rewriting) a JSON count of outcomes by reason");
  rogue->add_option("--peer", r->peers, "gRPC address of an expert host (repeatable)")->required();
  rogue->add_option("--experts", r->experts, "Expert ids 0..N-1 to call")->capture_default_str();
  rogue->add_option("--d-model", r->d_model, "Expert width")->capture_default_str();
  rogue->add_option("--grad", r->grad, "The constant dL/dy sent on every Backward")->capture_default_str();
  rogue->add_option("--seconds", r->seconds, "How long to keep calling")->capture_default_str();
  rogue->add_option("--report", r->report, "JSON file rewritten twice a second with the counts");
  rogue->callback([r] { RunRogue(*r); });

  auto peer = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto* info = experts->add_subcommand("info", "Experts hosted by one peer and its rejected requests");
  info->add_option("--peer", *peer, "gRPC address")->required();
  info->add_flag("--json", *json, "JSON output");
  info->callback([peer, json] {
    UseEnvironmentCredentialsOrExit();
    RunInfo(*peer, *json);
  });
}

}  // namespace swarm::cli

#endif  // SWARM_HAVE_NODE_EXPERTS
