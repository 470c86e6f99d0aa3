#include "e2e/prometheus_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <vector>

#include <nlohmann/json.hpp>

#include "e2e/process.h"

namespace swarm::e2e {
namespace {

std::string UrlEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

PrometheusServer::PrometheusServer(const std::string& config, const std::string& dir)
    : address_("127.0.0.1:" + std::to_string(FreePort())), log_path_(dir + "/prometheus.log") {
  const std::vector<std::string> args = {kBinary, "--config.file=" + config,
                                         "--storage.tsdb.path=" + dir + "/prometheus-data",
                                         "--web.listen-address=" + address_, "--log.level=warn"};
  const int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_ = fork();
  if (pid_ == 0) {
    // Not left running if the test dies (even by SIGKILL).
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fd);
}

PrometheusServer::~PrometheusServer() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  if (WaitFor(pid_, 20) == -1) {
    kill(pid_, SIGKILL);
    WaitFor(pid_, 5);
  }
}

std::string PrometheusServer::log() const { return ReadFile(log_path_); }

std::string PrometheusServer::QueryValue(const std::string& promql) const {
  auto [code, body] = HttpGet(address_, "/api/v1/query?query=" + UrlEncode(promql));
  if (code != 200) return "";
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("data")) return "";
  const auto& data = j["data"];
  if (data.value("resultType", "") == "scalar") return data["result"][1].get<std::string>();
  if (!data["result"].is_array() || data["result"].size() != 1) return "";
  return data["result"][0]["value"][1].get<std::string>();
}

std::set<std::string> PrometheusServer::Firing() const {
  auto [code, body] = HttpGet(address_, "/api/v1/alerts");
  std::set<std::string> out;
  if (code != 200) return out;
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("data")) return out;
  for (const auto& a : j["data"]["alerts"]) {
    if (a.value("state", "") != "firing") continue;
    out.insert(a["labels"].value("alertname", "") + "/" + a["labels"].value("peer", ""));
  }
  return out;
}

}  // namespace swarm::e2e
