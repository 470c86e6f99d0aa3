#include "jobs/scout.h"

#include "absl/strings/str_cat.h"

namespace swarm::jobs {

Status ScoutConfig::Validate() const {
  if (probe_interval <= 0 || probe_timeout <= 0) {
    return absl::InvalidArgumentError("jobs scout: probe_interval and probe_timeout must be positive");
  }
  if (!(probe_units > 0)) return absl::InvalidArgumentError(absl::StrCat("jobs scout: probe_units = ", probe_units, " must be > 0"));
  if (!(ewma > 0 && ewma <= 1)) return absl::InvalidArgumentError(absl::StrCat("jobs scout: ewma = ", ewma, " is outside (0, 1]"));
  return absl::OkStatus();
}

void Scout::OnTick(Nanos now) {
  for (auto& [w, s] : workers_) {
    if (s.pending_nonce != 0 && now - s.sent_at >= config_.probe_timeout) {
      s.pending_nonce = 0;
      s.throughput /= 2;
      ++timeouts_;
    }
    if (s.pending_nonce == 0 && now >= s.next_probe) {
      s.pending_nonce = next_nonce_++;
      s.sent_at = now;
      s.next_probe = now + config_.probe_interval;
      outbox_.push_back(Probe{w, s.pending_nonce});
    }
  }
}

std::vector<Probe> Scout::TakeOutbox() {
  std::vector<Probe> out;
  out.swap(outbox_);
  return out;
}

void Scout::OnProbeReply(uint32_t worker, uint64_t nonce, Nanos now) {
  auto it = workers_.find(worker);
  if (it == workers_.end() || nonce == 0 || it->second.pending_nonce != nonce) {
    ++ignored_;
    return;
  }
  State& s = it->second;
  s.pending_nonce = 0;
  const double secs = std::max(1e-9, ToSeconds(now - s.sent_at));
  const double sample = config_.probe_units / secs;
  s.throughput = s.throughput == 0 ? sample : config_.ewma * sample + (1 - config_.ewma) * s.throughput;
}

double Scout::Throughput(uint32_t w) const {
  auto it = workers_.find(w);
  return it == workers_.end() ? 0 : it->second.throughput;
}

std::map<uint32_t, double> Scout::Hints() const {
  double sum = 0;
  size_t n = 0;
  for (const auto& [_, s] : workers_) {
    if (s.throughput > 0) {
      sum += s.throughput;
      ++n;
    }
  }
  std::map<uint32_t, double> out;
  if (n == 0) return out;
  const double mean = sum / static_cast<double>(n);
  for (const auto& [w, s] : workers_) {
    if (s.throughput > 0) out[w] = s.throughput / mean;
  }
  return out;
}

}  // namespace swarm::jobs
