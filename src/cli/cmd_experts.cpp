// `swarm experts drive|info`: exercise and inspect experts hosted by peers
// (node/experts/extension.h). Compiled in when the experts extension is
// (SWARM_HAVE_NODE_EXPERTS); torch-free itself (nn/expert_drive.h).
#if defined(SWARM_HAVE_NODE_EXPERTS)

#include <iostream>
#include <sstream>

#include "cli/commands.h"
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
  drive->callback([f] { RunDrive(*f); });

  auto peer = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto* info = experts->add_subcommand("info", "Experts hosted by one peer and its rejected requests");
  info->add_option("--peer", *peer, "gRPC address")->required();
  info->add_flag("--json", *json, "JSON output");
  info->callback([peer, json] { RunInfo(*peer, *json); });
}

}  // namespace swarm::cli

#endif  // SWARM_HAVE_NODE_EXPERTS
