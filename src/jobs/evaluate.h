// Checking and evaluating a Circuit on ciphertexts with the evaluation keys a
// client chose to share (parameters, relinearization key, Galois keys; never
// the secret key).
//
// CheckCircuit runs before any work: it walks the DAG symbolically with each
// input's level, part count and (BFV) estimated noise budget and refuses, with
// the op id and the reason: a missing or extra input, a ciphertext of the
// wrong scheme or parameters, a rotation (or sum, dot, matmul) without its
// Galois key, a relinearization without the key, an op that needs 2 parts on
// an unrelinearized ciphertext, a rescale or level-consuming op below level 0
// (depth budget), a BFV multiply whose estimated noise budget would be
// exhausted. Evaluate calls it first, then evaluates in the circuit's
// topological order; an error the fhe/ evaluator still finds (e.g. a scale
// that no longer fits the modulus) is returned naming the op.
//
// Determinism: evaluation uses no randomness, so honest workers produce
// byte-identical outputs and ResultDigest identifies a result.
//
// Thread-safety: EvalKeys is immutable once built and may be shared by
// threads; the functions are pure.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "crypto/hash.h"
#include "fhe/bootstrap.h"
#include "fhe/ciphertext.h"
#include "jobs/circuit.h"

namespace swarm::jobs {

struct EvalKeys {
  fhe::ContextPtr ctx;
  std::shared_ptr<const fhe::RelinKey> relin;    // may be null
  std::shared_ptr<const fhe::GaloisKeys> galois; // may be null
  // May be null: then a "bootstrap" op is refused before any work, and a
  // circuit deeper than the chain is refused as before. LoadEvalKeys never
  // sets it (the job wire carries no bootstrapping configuration yet).
  std::shared_ptr<const fhe::Bootstrapper> bootstrapper;
};

// Builds EvalKeys from serialized blobs (fhe/serialize.h); relin and galois
// may be empty. Errors name the blob.
StatusOr<EvalKeys> LoadEvalKeys(ByteSpan params, ByteSpan relin, ByteSpan galois);

using Values = std::map<std::string, fhe::Ciphertext>;

Status CheckCircuit(const Circuit& c, const EvalKeys& keys, const Values& inputs);
StatusOr<Values> Evaluate(const Circuit& c, const EvalKeys& keys, const Values& inputs);

// Serialized outputs in the circuit's output order.
std::vector<Bytes> SerializeOutputs(const Circuit& c, const EvalKeys& keys, const Values& outputs);
// SHA3-256 over (u32 count, then per output u64 length and bytes).
crypto::Digest256 ResultDigest(const std::vector<Bytes>& serialized_outputs);

}  // namespace swarm::jobs
