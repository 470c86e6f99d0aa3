// Shared set-up of bench_jobs: one small task (y = x + x on a CKKS N = 4096
// ciphertext at level 0, 64 KiB) repeated over a pool of distinct inputs, so
// the figures show what scheduling, cross-checking and transport cost per
// task rather than the cost of the homomorphic arithmetic.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/hash.h"
#include "fhe/ckks.h"
#include "fhe/keys.h"
#include "jobs/evaluate.h"

namespace swarm::benchjobs {

struct Setup {
  std::string circuit_text;
  jobs::Circuit circuit;
  jobs::EvalKeys keys;
  std::optional<fhe::SecretKey> sk;
  std::vector<std::vector<double>> plain;  // pool[i] encrypts plain[i]
  std::vector<jobs::Values> pool;          // inputs; task t uses pool[t % size]
};

// Keys, circuit and a pool of `pool_size` input ciphertexts.
Setup MakeSetup(size_t pool_size);
// Evaluates task t and returns its result digest (exits on error).
crypto::Digest256 RunOne(const Setup& s, uint32_t task);
// Seconds since an arbitrary epoch (steady clock).
double Now();

// Distributed rows (jobs_remote.cpp): worker and queen `swarm node`
// processes on loopback. `single_rate` is the plain-loop anchor (tasks/s).
// Returns false if the processes could not be run (reason on stderr).
bool RunRemoteRows(const Setup& s, uint32_t tasks, double single_rate, const std::string& swarm_binary,
                   const std::string& command);

}  // namespace swarm::benchjobs
