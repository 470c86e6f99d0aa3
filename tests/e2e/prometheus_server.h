// A real Prometheus server (Debian's `prometheus`) for e2e tests: started on a
// free loopback port with a config file and a private TSDB directory, stopped
// by the destructor. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <memory>
#include <set>
#include <string>

namespace swarm::e2e {

class PrometheusServer {
 public:
  static constexpr char kBinary[] = "/usr/bin/prometheus";
  static constexpr char kPromtool[] = "/usr/bin/promtool";

  // Starts `prometheus --config.file=config` with data and log under `dir`.
  explicit PrometheusServer(const std::string& config, const std::string& dir);
  ~PrometheusServer();

  const std::string& address() const { return address_; }  // host:port of its HTTP API
  std::string log() const;
  // The value of a scalar-or-single-series instant query, "" if none or unreachable.
  std::string QueryValue(const std::string& promql) const;
  // Alerts in state "firing" as "AlertName/<peer label>" ("AlertName/" without one).
  std::set<std::string> Firing() const;

 private:
  std::string address_;
  std::string log_path_;
  pid_t pid_ = -1;
};

}  // namespace swarm::e2e
