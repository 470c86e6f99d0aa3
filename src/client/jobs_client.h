// The C++ client of the job service: submit a circuit with the evaluation
// keys and input batches to a queen peer, poll its progress and fetch the
// accepted outputs. `swarm fhe eval` is a thin wrapper around it.
//
// Errors: unreachable peer → Unavailable naming the address; a refusal by the
// queen (bad circuit, missing Galois key, depth ...) is returned with the
// queen's message; a job that failed → Aborted with the queen's reason; no
// result within `timeout` → DeadlineExceeded.
// Thread-safety: one JobsClient per thread (it holds a gRPC stub, which is
// itself thread-safe, but progress callbacks run on the calling thread).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/status.h"

namespace swarm::v1 {
class Jobs;
}

namespace swarm::jobs {

struct EvalJob {
  std::string circuit;   // TOML text
  Bytes params, relin_key, galois_keys;  // fhe/serialize.h blobs; relin/galois may be empty
  std::vector<std::map<std::string, Bytes>> batches;  // one task per batch: input name -> ciphertext
};

struct EvalProgress {
  std::string state;  // running | done | failed
  uint32_t tasks_done = 0, tasks_total = 0;
  uint32_t workers = 0;
  uint64_t exclusions = 0;
  std::string error;
};

class JobsClient {
 public:
  // message_size_bytes_max bounds requests and replies (keys are large).
  static StatusOr<std::unique_ptr<JobsClient>> Connect(const std::string& address,
                                                       int64_t message_size_bytes_max = int64_t{512} << 20);
  ~JobsClient();

  StatusOr<uint64_t> Submit(const EvalJob& job);
  StatusOr<EvalProgress> Progress(uint64_t job_id);
  // Polls every `poll` until done; calls on_progress on each change.
  // Returns the accepted outputs per batch (output name -> ciphertext).
  StatusOr<std::vector<std::map<std::string, Bytes>>> Wait(uint64_t job_id, Nanos timeout,
                                                           const std::function<void(const EvalProgress&)>& on_progress = {},
                                                           Nanos poll = Millis(100));
  // Submit + Wait.
  StatusOr<std::vector<std::map<std::string, Bytes>>> Run(const EvalJob& job, Nanos timeout,
                                                          const std::function<void(const EvalProgress&)>& on_progress = {});

 private:
  struct Impl;
  explicit JobsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace swarm::jobs
