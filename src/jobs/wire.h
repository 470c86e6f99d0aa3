// Conversion between the gRPC wire (proto/swarm/v1/jobs.proto) and jobs/
// values, with every check a peer's input needs: sizes against named limits,
// names, duplicate or undeclared inputs, fhe/ deserialization (parameters,
// shapes, coefficient ranges). Errors are InvalidArgument naming the field.
//
// A worker's RunTask: PrepareJob (once per job_key, cached by the caller) →
// DecodeBatch → Evaluate → EncodeOutputs (digest + outputs). `lie` (test
// only) flips one coefficient byte of the first output before hashing, a
// Byzantine worker the queen must catch.
//
// Thread-safety: pure functions; PreparedJob is immutable and shareable.
#pragma once

#include <memory>
#include <string>

#include "jobs/evaluate.h"
#include "swarm/v1/jobs.pb.h"

namespace swarm::jobs {

inline constexpr size_t kBatchValuesMax = kCircuitInputsMax;
inline constexpr size_t kJobBatchesMax = 1u << 16;

struct PreparedJob {
  std::string circuit_text;
  Circuit circuit;
  EvalKeys keys;
  crypto::Digest256 job_key{};
};

// SHA3-256 over the circuit text and the three key blobs (length-framed).
crypto::Digest256 JobKey(const std::string& circuit, const swarm::v1::JobKeys& keys);

StatusOr<std::shared_ptr<const PreparedJob>> PrepareJob(const std::string& circuit, const swarm::v1::JobKeys& keys);
StatusOr<Values> DecodeBatch(const PreparedJob& job, const swarm::v1::Batch& batch);
// Evaluates one task and fills `reply` (digest and outputs).
Status RunTask(const PreparedJob& job, const swarm::v1::Batch& inputs, bool lie, swarm::v1::RunTaskReply* reply);

// Batch <-> name -> bytes.
swarm::v1::Batch ToBatch(const std::map<std::string, Bytes>& values);
std::map<std::string, Bytes> FromBatch(const swarm::v1::Batch& batch);

}  // namespace swarm::jobs
