// Wraps another consensus::Authenticator and accumulates the wall time spent
// in it (the PBFT benchmark reports the share of time in signing/verifying).
// Bench code: it reads the steady clock, which no core may do, so it lives
// here rather than in src/consensus/. Not thread-safe; `inner` is not owned
// and must outlive this object.
#pragma once

#include <chrono>

#include "consensus/authenticator.h"

namespace swarm::consensus {

class TimingAuthenticator final : public Authenticator {
 public:
  explicit TimingAuthenticator(Authenticator* inner) : inner_(inner) {}
  Bytes Sign(ByteSpan msg) override {
    const auto t0 = std::chrono::steady_clock::now();
    Bytes s = inner_->Sign(msg);
    sign_seconds_ += Since(t0);
    ++signs_;
    return s;
  }
  bool Verify(ReplicaId signer, ByteSpan msg, ByteSpan sig) override {
    const auto t0 = std::chrono::steady_clock::now();
    const bool ok = inner_->Verify(signer, msg, sig);
    verify_seconds_ += Since(t0);
    ++verifies_;
    return ok;
  }
  double sign_seconds() const { return sign_seconds_; }
  double verify_seconds() const { return verify_seconds_; }
  uint64_t signs() const { return signs_; }
  uint64_t verifies() const { return verifies_; }

 private:
  static double Since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  Authenticator* inner_;
  double sign_seconds_ = 0, verify_seconds_ = 0;
  uint64_t signs_ = 0, verifies_ = 0;
};

}  // namespace swarm::consensus
