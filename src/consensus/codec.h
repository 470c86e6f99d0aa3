// Wire encoding of PBFT messages: protobuf (proto/swarm/v1/consensus.proto,
// message PbftMessage) <-> consensus/types.h structs.
//
// DecodeMessage is the entry point for bytes from the network. It never
// crashes or allocates beyond the limits below: input larger than
// message_bytes_max is refused before parsing; every count, length and id is
// checked; digests must be exactly 32 bytes; every embedded message must carry
// the body its position requires (a checkpoint certificate's votes are
// checkpoints, ...). Errors are InvalidArgument naming the field and value.
// Decoding does NOT check signatures or certificate quorums: the replica does.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>

#include "common/bytes.h"
#include "common/status.h"
#include "consensus/replica.h"
#include "consensus/types.h"

namespace swarm::consensus {

struct CodecLimits {
  size_t message_bytes_max = 64u << 20;   // whole encoded message
  size_t signature_bytes_max = 8192;      // ML-DSA-87 is 4627, hybrid 3373
  uint32_t committee_max = 1024;          // signer ids must be below this
  size_t batch_requests_max = 65536;
  size_t payload_bytes_max = 16u << 20;
  size_t votes_max = 1024;                // signed votes in one certificate
  size_t certificates_max = 1u << 16;     // prepared certs in a view change, pre-prepares in a new view
  size_t fetch_entries_max = 4096;
};

StatusOr<Bytes> EncodeMessage(const Message& m);
StatusOr<Message> DecodeMessage(ByteSpan wire, const CodecLimits& limits = {});

// A replica's DurableState as bytes (message PbftDurableState), for the
// driver's storage. Decoding applies the same limits and checks.
StatusOr<Bytes> EncodeDurableState(const DurableState& state);
StatusOr<DurableState> DecodeDurableState(ByteSpan bytes, const CodecLimits& limits = {});

}  // namespace swarm::consensus
