#include "cli/local_admission.h"

#include "common/file.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"

namespace swarm::cli {
namespace {

using admission::Role;
using admission::RoleSet;

RoleSet R(Role r) { return static_cast<RoleSet>(r); }

uint64_t NowUnixMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// The identity in `path`, created (and saved) when the file does not exist.
StatusOr<crypto::Identity> LoadOrCreateIdentity(const std::string& path) {
  if (std::filesystem::exists(path)) return crypto::Identity::Load(path);
  SWARM_ASSIGN_OR_RETURN(crypto::Identity id, crypto::Identity::Generate());
  SWARM_RETURN_IF_ERROR(id.Save(path, /*force=*/false));
  return id;
}

}  // namespace

StatusOr<LocalIssuer> LocalIssuer::Create(const std::string& run_dir, const std::string& join_run_dir) {
  LocalIssuer li;
  li.dir_ = (std::filesystem::path(run_dir) / "admission").string();
  std::error_code ec;
  std::filesystem::create_directories(li.dir_, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat("cannot create '", li.dir_, "': ", ec.message()));
  std::random_device rd;
  const uint32_t tag[2] = {rd(), rd()};
  li.swarm_id_ = "local-" + ToHex(ByteSpan(reinterpret_cast<const uint8_t*>(tag), sizeof(tag)));
  if (!join_run_dir.empty()) {
    // Joining a running swarm: its issuer admits this run's peers too.
    const std::string joined = (std::filesystem::path(join_run_dir) / "admission").string();
    std::ifstream id_file(joined + "/swarm_id");
    std::string id;
    if (!std::getline(id_file, id) || id.empty()) {
      return absl::NotFoundError(absl::StrCat("--join '", join_run_dir, "': no ", joined,
                                              "/swarm_id (is it the --dir of a running `swarm up`?)"));
    }
    li.swarm_id_ = id;
    SWARM_ASSIGN_OR_RETURN(crypto::Identity issuer, crypto::Identity::Load(joined + "/issuer.key"));
    li.issuer_ = std::make_unique<crypto::Identity>(std::move(issuer));
  } else {
    SWARM_ASSIGN_OR_RETURN(crypto::Identity issuer, crypto::Identity::Generate());
    li.issuer_ = std::make_unique<crypto::Identity>(std::move(issuer));
  }
  // A new issuer per run: the previous run's key and grants stop being trusted.
  SWARM_RETURN_IF_ERROR(li.issuer_->Save(li.dir_ + "/issuer.key", /*force=*/true));
  SWARM_RETURN_IF_ERROR(admission::SaveIssuerKey(li.dir_ + "/issuer.pub", admission::IssuerKeyOf(*li.issuer_)));
  SWARM_RETURN_IF_ERROR(WriteFileAtomic(li.dir_ + "/swarm_id", std::string_view(li.swarm_id_ + "\n")));
  // The orchestrator's own identity and grant (it reads peers' status, submits
  // work, runs islands and may drive experts with `swarm experts drive`), for
  // the tools that call the peers of this swarm (cli/credentials.h).
  SWARM_ASSIGN_OR_RETURN(crypto::Identity op, LoadOrCreateIdentity(li.dir_ + "/operator.key"));
  SWARM_ASSIGN_OR_RETURN(admission::SignedGrant og,
                         li.Issue(op, R(Role::kObserver) | R(Role::kClient) | R(Role::kIsland) | R(Role::kTrainer),
                                  "", 1.0, "", "local-operator"));
  SWARM_RETURN_IF_ERROR(admission::SaveGrant(li.dir_ + "/operator.grant", og));
  return li;
}

StatusOr<admission::SignedGrant> LocalIssuer::Issue(const crypto::Identity& subject, RoleSet roles,
                                                    const std::string& address, double capacity,
                                                    const std::string& region, const std::string& operator_name) {
  admission::Grant g;
  g.swarm_id = swarm_id_;
  admission::SetSubject(g, subject.scheme(), subject.public_key());
  g.roles = roles | R(Role::kObserver);
  g.capacity = static_cast<float>(std::clamp<double>(capacity, 0.01, admission::kCapacityMax));
  g.operator_name = operator_name;
  g.region = region;
  g.address = address;
  const uint64_t now = NowUnixMs();
  g.not_before_unix_ms = now - std::min<uint64_t>(now, 60'000);
  g.expires_unix_ms = now + kLocalGrantTtlMs;
  g.serial = next_serial_++;
  return admission::IssueGrant(*issuer_, g);
}

StatusOr<std::vector<std::string>> LocalIssuer::Admit(const std::string& peer_dir, RoleSet roles,
                                                      const std::string& address, double capacity,
                                                      const std::string& region, const std::string& operator_name) {
  std::error_code ec;
  std::filesystem::create_directories(peer_dir, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat("cannot create '", peer_dir, "': ", ec.message()));
  const std::string key_file = peer_dir + "/node.key";
  const std::string grant_file = peer_dir + "/admission.grant";
  SWARM_ASSIGN_OR_RETURN(crypto::Identity peer, LoadOrCreateIdentity(key_file));
  SWARM_ASSIGN_OR_RETURN(admission::SignedGrant sg,
                         Issue(peer, roles, address, capacity, region,
                               operator_name.empty() ? DefaultOperator(peer_dir) : operator_name));
  SWARM_RETURN_IF_ERROR(admission::SaveGrant(grant_file, sg));
  ++issued_;
  return std::vector<std::string>{
      "--set", "node.key_file=" + key_file,
      "--set", "admission.swarm_id=" + swarm_id_,
      "--set", "admission.issuer_key_files=[\"" + dir_ + "/issuer.pub\"]",
      "--set", "admission.grant_file=" + grant_file};
}

std::string LocalIssuer::DefaultOperator(const std::string& peer_dir) {
  std::string name = std::filesystem::path(peer_dir).lexically_normal().filename().string();
  if (name.empty()) name = std::filesystem::path(peer_dir).lexically_normal().parent_path().filename().string();
  std::string out = "local-";
  for (char c : name) out.push_back(c > ' ' && c <= '~' ? c : '_');
  return out.substr(0, admission::kOperatorBytesMax);
}

std::string LocalIssuer::Summary() const {
  return absl::StrCat("admission: issued ", issued_, " peer grant(s) for swarm ", swarm_id_, " (issuer ",
                      issuer_id_hex(), ", ", dir_, "/issuer.pub; operator grant ", dir_,
                      "/operator.grant)");
}

RoleSet RolesForNodeConfig(const Config& c) {
  const auto& v = c.values();
  auto flag = [&](const char* key) { return v.count(key) && c.GetBool(key); };
  auto str = [&](const char* key) { return v.count(key) ? c.GetString(key) : std::string(); };
  RoleSet roles = R(Role::kObserver);
  if (flag("consensus.enabled")) roles |= R(Role::kCommittee) | R(Role::kClient);
  if (flag("experts.host")) roles |= R(Role::kExpertHost);
  if (flag("trainer.enabled")) {
    if (str("trainer.role") == "aggregator") {
      roles |= R(Role::kAggregator);
    } else {
      roles |= R(Role::kTrainer);
      if (flag("trainer.require_committed_root")) roles |= R(Role::kClient);
    }
  }
  if (flag("evo.evaluator")) roles |= R(Role::kEvaluator);
  const std::string jobs_role = str("jobs.role");
  for (absl::string_view r : absl::StrSplit(jobs_role, ',')) {
    const std::string role(absl::StripAsciiWhitespace(r));
    if (role == "queen") roles |= R(Role::kQueen);
    if (role == "worker" || role == "guardian" || role == "scout") roles |= R(Role::kJobsWorker);
  }
  return roles;
}

}  // namespace swarm::cli
