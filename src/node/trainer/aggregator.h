// The aggregating peer of encrypted averaging: [trainer] with trainer.role =
// "aggregator" and trainer.secure_agg = "ckks" (see node/trainer/extension.h
// for the whole protocol and docs/fhe.md "Secure aggregation: trust model").
//
// It loads ONLY the group's public parameters and public key from
// trainer.secure_agg_keys (fhe/keyset.h LoadEvalKeys) and refuses to start if
// that directory holds a secret.key: it can add ciphertexts, never decrypt.
// Each "train_ct" envelope (train/secure_codec.h) from a trainer listed in
// trainer.peers feeds a train::SecureSumRound; each closed round's encrypted
// sum goes to every trainer as a "train_sum" envelope (retried while the peer
// is unreachable). A trainer name stays bound to the first identity that
// signed for it (another identity claiming it counts as not_a_trainer).
//
// Status JSON "trainer": role "aggregator", state, secret_key_loaded (always
// false), secret_key_file_present, key_id, ckks_n, dim, round, rounds_summed,
// rounds_failed, contributions_summed, last_contributors, bytes_in, bytes_out,
// excluded{reason}. Metrics: swarm_aggregation_excluded_total{reason},
// swarm_secure_agg_rounds_total{outcome}.
// Thread-safety: as node/extension.h requires (one sender thread; OnEnvelope
// and StatusJson lock).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "node/extension.h"
#include "train/secure_round.h"

namespace swarm::node {

struct SecureAggregatorSettings {
  std::string self;        // this peer's gRPC address (its name in train_sum)
  std::string keys_dir;    // public files of the group's key set
  uint64_t job_id = 0;
  size_t envelope_bytes_max = 0;  // largest payload a peer accepts
  train::SecureRoundConfig round;  // trainers, dim, deadlines, quorum, rounds
};

std::unique_ptr<Extension> MakeSecureAggregatorExtension(SecureAggregatorSettings settings);

// The largest payload (bytes) a "train_ct"/"train_sum" envelope may carry
// under net.message_size_bytes_max, leaving room for the signed envelope.
size_t SecurePayloadBytesMax(int64_t message_size_bytes_max);

}  // namespace swarm::node
