// `swarm fhe eval --peer ADDR --circuit circuit.toml --keys DIR --in x.ct
// [--in y.ct] --out r.ct`: sends a circuit, the key directory's evaluation
// keys (parameters, relinearization and Galois keys — never secret.key) and
// the input ciphertexts to a queen peer, shows progress (tasks done / total,
// workers, exclusions) and writes the accepted output ciphertexts.
// --in takes `file` (matched to the circuit's inputs in order) or
// `name=file`; --out takes `file` (single output) or `name=file`.
// Exit codes: 2 for usage errors (flags, unreadable files, a circuit or input
// the queen refuses), 1 for runtime failures (unreachable peer, failed job,
// timeout).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/credentials.h"
#include "common/file.h"
#include "fhe/keyset.h"
#include "fhe/serialize.h"
#include "jobs/circuit.h"
#include "client/jobs_client.h"

namespace swarm::cli {
namespace {

constexpr size_t kInputFileBytesMax = size_t{1} << 30;

struct EvalFlags {
  std::string peer, circuit, keys;
  std::vector<std::string> in, out;
  double timeout_s = 300;
  bool quiet = false;
};

StatusOr<std::string> ReadAll(const std::string& path, const char* what) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return absl::InvalidArgumentError(absl::StrCat(what, " '", path, "' cannot be opened"));
  f.seekg(0, std::ios::end);
  const auto size = static_cast<size_t>(f.tellg());
  if (size > kInputFileBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat(what, " '", path, "' has ", size, " bytes, the limit is ", kInputFileBytesMax));
  }
  f.seekg(0);
  std::string s(size, '\0');
  f.read(s.data(), static_cast<std::streamsize>(size));
  if (!f) return absl::InvalidArgumentError(absl::StrCat(what, " '", path, "' could not be read"));
  return s;
}

// "name=path" or "path" (named by position among `names`).
StatusOr<std::map<std::string, std::string>> Bind(const std::vector<std::string>& args,
                                                  const std::vector<std::string>& names, const char* flag) {
  std::map<std::string, std::string> out;
  size_t next = 0;
  for (const auto& a : args) {
    const auto eq = a.find('=');
    std::string name, path;
    if (eq != std::string::npos) {
      name = a.substr(0, eq);
      path = a.substr(eq + 1);
      if (std::find(names.begin(), names.end(), name) == names.end()) {
        return absl::InvalidArgumentError(absl::StrCat(flag, " ", a, ": the circuit has no ", flag == std::string("--in") ? "input" : "output", " named '", name, "'"));
      }
    } else {
      while (next < names.size() && out.count(names[next])) ++next;
      if (next >= names.size()) {
        return absl::InvalidArgumentError(absl::StrCat(flag, " ", a, ": more files than the circuit's ", names.size(), " name(s)"));
      }
      name = names[next++];
      path = a;
    }
    if (!out.emplace(name, path).second) return absl::InvalidArgumentError(absl::StrCat(flag, ": '", name, "' given twice"));
  }
  for (const auto& n : names) {
    if (!out.count(n)) return absl::InvalidArgumentError(absl::StrCat(flag, ": no file for '", n, "'"));
  }
  return out;
}

Status WriteAll(const std::string& path, const Bytes& b) {
  const Status s = WriteFileAtomic(path, ByteSpan(b), {.mode = 0644});
  if (s.ok()) return s;
  // A path the user can fix (missing directory, no permission) is a usage error.
  const bool usage = absl::IsNotFound(s) || absl::IsPermissionDenied(s);
  return absl::Status(usage ? absl::StatusCode::kInvalidArgument : absl::StatusCode::kUnavailable,
                      absl::StrCat("--out ", s.message()));
}

int ExitFor(const Status& s) {
  return absl::IsInvalidArgument(s) || absl::IsFailedPrecondition(s) ? kExitUsage : kExitRuntime;
}

void RunEval(const EvalFlags& f) {
  const std::string cmd = "fhe eval";
  auto text = ReadAll(f.circuit, "--circuit");
  if (!text.ok()) Fail(cmd, text.status(), kExitUsage);
  auto circuit = jobs::ParseCircuit(*text);
  if (!circuit.ok()) Fail(cmd, circuit.status(), kExitUsage);
  auto keys = fhe::LoadEvalKeys(f.keys);
  if (!keys.ok()) Fail(cmd, keys.status(), kExitUsage);
  auto ins = Bind(f.in, circuit->inputs, "--in");
  if (!ins.ok()) Fail(cmd, ins.status(), kExitUsage);
  auto outs = Bind(f.out, circuit->outputs, "--out");
  if (!outs.ok()) Fail(cmd, outs.status(), kExitUsage);

  jobs::EvalJob job;
  job.circuit = *text;
  job.params = fhe::SerializeParams(*keys->ctx);
  if (keys->relin_key) job.relin_key = fhe::Serialize(*keys->ctx, *keys->relin_key);
  if (keys->galois_keys) job.galois_keys = fhe::Serialize(*keys->ctx, *keys->galois_keys);
  std::map<std::string, Bytes> batch;
  for (const auto& [name, path] : *ins) {
    auto blob = ReadAll(path, "--in");
    if (!blob.ok()) Fail(cmd, blob.status(), kExitUsage);
    // Checked here too so a wrong file is named before anything is sent.
    auto ct = fhe::DeserializeCiphertext(*keys->ctx, AsBytes(*blob));
    if (!ct.ok()) {
      Fail(cmd, absl::InvalidArgumentError(absl::StrCat("--in ", name, "=", path, ": ", ct.status().message())), kExitUsage);
    }
    batch[name] = Bytes(blob->begin(), blob->end());
  }
  job.batches.push_back(std::move(batch));

  auto client = jobs::JobsClient::Connect(f.peer);
  if (!client.ok()) Fail(cmd, client.status(), kExitUsage);
  const auto progress = [&](const jobs::EvalProgress& p) {
    if (f.quiet) return;
    std::fprintf(stderr, "fhe eval: %s, tasks %u/%u, workers %u, exclusions %llu\n", p.state.c_str(), p.tasks_done,
                 p.tasks_total, p.workers, static_cast<unsigned long long>(p.exclusions));
  };
  auto results = (*client)->Run(job, Seconds(f.timeout_s), progress);
  if (!results.ok()) Fail(cmd, results.status(), ExitFor(results.status()));
  for (const auto& [name, path] : *outs) {
    auto it = (*results)[0].find(name);
    if (it == (*results)[0].end()) {
      Fail(cmd, absl::InternalError(absl::StrCat("the queen returned no output '", name, "'")), kExitRuntime);
    }
    // Never write something that is not a ciphertext under these parameters.
    auto ct = fhe::DeserializeCiphertext(*keys->ctx, it->second);
    if (!ct.ok()) Fail(cmd, absl::DataLossError(absl::StrCat("output '", name, "': ", ct.status().message())), kExitRuntime);
    Status s = WriteAll(path, it->second);
    if (!s.ok()) Fail(cmd, s, kExitRuntime);
    if (!f.quiet) std::fprintf(stderr, "fhe eval: wrote %s (%zu bytes)\n", path.c_str(), it->second.size());
  }
}

}  // namespace

void AddFheEvalCommand(CLI::App& fhe) {
  auto flags = std::make_shared<EvalFlags>();
  auto* ev = fhe.add_subcommand("eval", "Evaluate a circuit on ciphertexts on the swarm (a queen peer and its workers)");
  ev->add_option("--peer", flags->peer, "gRPC address of a queen peer (host:port)")->required();
  ev->add_option("--circuit", flags->circuit, "Circuit file (TOML, see docs/jobs.md)")->required();
  ev->add_option("--keys", flags->keys, "Key directory; only params, relin.key and galois.key are sent")->required();
  ev->add_option("--in", flags->in, "Input ciphertext: file (in circuit input order) or name=file")->required();
  ev->add_option("--out", flags->out, "Output ciphertext: file (one output) or name=file")->required();
  ev->add_option("--timeout", flags->timeout_s, "Seconds to wait for the result")->check(CLI::Range(1.0, 86400.0));
  ev->add_flag("--quiet", flags->quiet, "No progress lines");
  ev->callback([flags] {
    UseEnvironmentCredentialsOrExit();
    RunEval(*flags);
  });
}

}  // namespace swarm::cli
