#include "cli/credentials.h"

#include <cstdlib>
#include <iostream>
#include <filesystem>
#include <memory>

#include "admission/grant.h"
#include "crypto/identity.h"
#include "net/dial.h"

namespace swarm::cli {

Status UseCredentialsDir(const std::string& dir) {
  SWARM_ASSIGN_OR_RETURN(crypto::Identity id, crypto::Identity::Load(dir + "/operator.key"));
  SWARM_ASSIGN_OR_RETURN(admission::SignedGrant grant, admission::LoadGrant(dir + "/operator.grant"));
  net::SetDefaultCallCredentials(std::make_shared<const crypto::Identity>(std::move(id)),
                                 admission::EncodeSignedGrant(grant));
  return absl::OkStatus();
}

Status UseRunCredentials(const std::string& run_dir) {
  const std::string dir = run_dir + "/admission";
  std::error_code ec;
  if (!std::filesystem::exists(dir + "/operator.grant", ec)) return absl::OkStatus();
  return UseCredentialsDir(dir);
}

Status UseEnvironmentCredentials() {
  const char* dir = std::getenv("SWARM_CREDENTIALS");
  if (dir == nullptr || *dir == '\0') return absl::OkStatus();
  Status s = UseCredentialsDir(dir);
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("SWARM_CREDENTIALS='", dir, "': ", s.message()));
  return s;
}

void UseEnvironmentCredentialsOrExit() {
  if (Status s = UseEnvironmentCredentials(); !s.ok()) {
    std::cerr << "swarm: " << s.message() << std::endl;
    std::exit(2);
  }
}

}  // namespace swarm::cli
