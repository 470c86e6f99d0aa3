#include "jobs/wire.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "fhe/serialize.h"

namespace swarm::jobs {

crypto::Digest256 JobKey(const std::string& circuit, const swarm::v1::JobKeys& keys) {
  Bytes framed;
  const auto add = [&](const std::string& s) {
    const uint64_t n = s.size();
    for (int i = 0; i < 8; ++i) framed.push_back(static_cast<uint8_t>(n >> (8 * i)));
    framed.insert(framed.end(), s.begin(), s.end());
  };
  add(circuit);
  add(keys.params());
  add(keys.relin_key());
  add(keys.galois_keys());
  return crypto::Sha3_256(framed);
}

StatusOr<std::shared_ptr<const PreparedJob>> PrepareJob(const std::string& circuit, const swarm::v1::JobKeys& keys) {
  auto job = std::make_shared<PreparedJob>();
  job->circuit_text = circuit;
  SWARM_ASSIGN_OR_RETURN(job->circuit, ParseCircuit(circuit));
  if (keys.params().empty()) return absl::InvalidArgumentError("job: keys.params is empty");
  SWARM_ASSIGN_OR_RETURN(job->keys, LoadEvalKeys(AsBytes(keys.params()), AsBytes(keys.relin_key()),
                                                 AsBytes(keys.galois_keys())));
  if (job->keys.ctx->scheme() != job->circuit.scheme) {
    return absl::InvalidArgumentError(absl::StrCat("job: circuit scheme ", fhe::SchemeName(job->circuit.scheme),
                                                   " but keys.params is ", fhe::SchemeName(job->keys.ctx->scheme())));
  }
  job->job_key = JobKey(circuit, keys);
  return std::shared_ptr<const PreparedJob>(std::move(job));
}

StatusOr<Values> DecodeBatch(const PreparedJob& job, const swarm::v1::Batch& batch) {
  if (static_cast<size_t>(batch.values_size()) > kBatchValuesMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch: ", batch.values_size(), " values exceeds batch_values_max ", kBatchValuesMax));
  }
  const std::set<std::string> declared(job.circuit.inputs.begin(), job.circuit.inputs.end());
  Values out;
  for (const auto& v : batch.values()) {
    if (!declared.count(v.name())) {
      return absl::InvalidArgumentError(absl::StrCat("batch: input '", v.name().substr(0, 64), "' is not a circuit input"));
    }
    if (out.count(v.name())) return absl::InvalidArgumentError(absl::StrCat("batch: input '", v.name(), "' given twice"));
    auto ct = fhe::DeserializeCiphertext(*job.keys.ctx, AsBytes(v.ciphertext()));
    if (!ct.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("batch: input '", v.name(), "': ", ct.status().message()));
    }
    out.emplace(v.name(), std::move(*ct));
  }
  for (const auto& in : job.circuit.inputs) {
    if (!out.count(in)) return absl::InvalidArgumentError(absl::StrCat("batch: input '", in, "' is missing"));
  }
  return out;
}

Status RunTask(const PreparedJob& job, const swarm::v1::Batch& inputs, bool lie, swarm::v1::RunTaskReply* reply) {
  SWARM_ASSIGN_OR_RETURN(Values in, DecodeBatch(job, inputs));
  SWARM_ASSIGN_OR_RETURN(Values out, Evaluate(job.circuit, job.keys, in));
  std::vector<Bytes> blobs = SerializeOutputs(job.circuit, job.keys, out);
  if (lie && !blobs.empty() && blobs[0].size() > fhe::kHeaderBytes + 64) {
    // A coefficient's low byte: still a well-formed blob, a wrong result.
    blobs[0][blobs[0].size() - 8] ^= 0x01;
  }
  const auto d = ResultDigest(blobs);
  reply->set_digest(std::string(d.begin(), d.end()));
  auto* b = reply->mutable_outputs();
  b->Clear();
  for (size_t i = 0; i < blobs.size(); ++i) {
    auto* v = b->add_values();
    v->set_name(job.circuit.outputs[i]);
    v->set_ciphertext(std::string(blobs[i].begin(), blobs[i].end()));
  }
  return absl::OkStatus();
}

swarm::v1::Batch ToBatch(const std::map<std::string, Bytes>& values) {
  swarm::v1::Batch b;
  for (const auto& [name, bytes] : values) {
    auto* v = b.add_values();
    v->set_name(name);
    v->set_ciphertext(std::string(bytes.begin(), bytes.end()));
  }
  return b;
}

std::map<std::string, Bytes> FromBatch(const swarm::v1::Batch& batch) {
  std::map<std::string, Bytes> out;
  for (const auto& v : batch.values()) out[v.name()] = Bytes(v.ciphertext().begin(), v.ciphertext().end());
  return out;
}

}  // namespace swarm::jobs
