// Identity and crypto tools: `swarm keygen`, `swarm identity show`,
// `swarm crypto acvp`.
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "crypto/acvp.h"
#include "crypto/hash.h"
#include "crypto/identity.h"

namespace swarm::cli {
namespace {

struct KeygenFlags {
  std::string out;
  std::string scheme = "ml-dsa-65";
  bool force = false;
};

int RunKeygen(const KeygenFlags& f) {
  auto scheme = crypto::SchemeFromName(f.scheme);
  if (!scheme.ok()) Fail("keygen", scheme.status(), kExitUsage);
  auto id = crypto::Identity::Generate(*scheme);
  if (!id.ok()) Fail("keygen", id.status(), kExitRuntime);
  if (auto s = id->Save(f.out, f.force); !s.ok()) {
    Fail("keygen", s, s.code() == absl::StatusCode::kAlreadyExists ? kExitUsage : kExitRuntime);
  }
  std::cout << "wrote " << f.out << " (" << crypto::SchemeName(id->scheme()) << ", mode 0600)\n"
            << "peer id " << id->PeerIdHex() << std::endl;
  return 0;
}

int RunIdentityShow(const std::string& key, bool json) {
  auto id = crypto::Identity::Load(key);
  if (!id.ok()) Fail("identity show", id.status(), kExitUsage);
  const std::string full = ToHex(id->peer_id());
  if (json) {
    std::cout << nlohmann::json{{"peer_id", id->PeerIdHex()},
                                {"peer_id_full", full},
                                {"scheme", crypto::SchemeName(id->scheme())},
                                {"public_key_bytes", id->public_key().size()},
                                {"public_key_sha3_256", ToHex(crypto::Sha3_256(id->public_key()))}}
                     .dump(2)
              << std::endl;
  } else {
    std::cout << FormatTable({"field", "value"},
                             {{"peer id", id->PeerIdHex()},
                              {"peer id (full)", full},
                              {"scheme", crypto::SchemeName(id->scheme())},
                              {"public key", std::to_string(id->public_key().size()) + " bytes"}});
  }
  return 0;
}

int RunAcvp(const std::string& prompt_path, const std::string& out_path) {
  std::ifstream in(prompt_path);
  if (!in) Fail("crypto acvp", absl::NotFoundError("cannot read --prompt '" + prompt_path + "'"), kExitUsage);
  nlohmann::json prompt = nlohmann::json::parse(in, nullptr, false);
  if (prompt.is_discarded()) {
    Fail("crypto acvp", absl::InvalidArgumentError("--prompt '" + prompt_path + "' is not valid JSON"), kExitUsage);
  }
  auto answer = crypto::AnswerAcvpPrompt(prompt);
  if (!answer.ok()) Fail("crypto acvp", answer.status(), kExitUsage);
  if (out_path.empty()) {
    std::cout << answer->dump(2) << std::endl;
  } else {
    std::ofstream out(out_path);
    out << answer->dump(2) << "\n";
    if (!out) Fail("crypto acvp", absl::InternalError("cannot write --out '" + out_path + "'"), kExitRuntime);
    std::cerr << "wrote " << out_path << std::endl;
  }
  return 0;
}

}  // namespace

void AddCryptoCommands(CLI::App& app) {
  auto kf = std::make_shared<KeygenFlags>();
  auto* keygen = app.add_subcommand(
      "keygen",
      "Create a peer identity key file (mode 0600).\n\nExample:\n  swarm keygen --out peer.key\n"
      "  swarm keygen --out peer.key --scheme hybrid   # Ed25519 + ML-DSA-65, both must verify");
  keygen->add_option("--out", kf->out, "Key file to write")->required();
  keygen->add_option("--scheme", kf->scheme, "ml-dsa-65 | ml-dsa-87 | hybrid")->capture_default_str();
  keygen->add_flag("--force", kf->force, "Overwrite an existing key file");
  keygen->callback([kf] { RunKeygen(*kf); });

  auto* identity = app.add_subcommand("identity", "Inspect identities");
  identity->require_subcommand(1);
  auto key = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto* show = identity->add_subcommand(
      "show", "Print the peer id and scheme of a key file.\n\nExample:\n  swarm identity show --key peer.key");
  show->add_option("--key", *key, "Key file written by `swarm keygen`")->required();
  show->add_flag("--json", *json, "Print JSON");
  show->callback([key, json] { RunIdentityShow(*key, *json); });

  auto* crypto_cmd = app.add_subcommand("crypto", "Cryptography tools");
  crypto_cmd->require_subcommand(1);
  auto prompt = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto* acvp = crypto_cmd->add_subcommand(
      "acvp",
      "Answer a NIST ACVP prompt.json (ML-DSA keyGen/sigGen/sigVer, ML-KEM keyGen/encapDecap) in the "
      "format of its expectedResults.json.\n\nExample:\n"
      "  swarm crypto acvp --prompt ML-KEM-keyGen-FIPS203/prompt.json --out answer.json");
  acvp->add_option("--prompt", *prompt, "ACVP prompt.json")->required();
  acvp->add_option("--out", *out, "Where to write the response (default: stdout)");
  acvp->callback([prompt, out] { RunAcvp(*prompt, *out); });
}

}  // namespace swarm::cli
