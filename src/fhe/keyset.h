// A key directory: everything a client, an evaluating peer or a group of
// trainers needs, in files, with the secret kept apart.
//
// Layout of DIR (all blobs in the fhe/serialize.h format):
//   keyset.txt   manifest: format version, scheme, N, key id, parameter hash
//                and the SHA3-256 of every shareable file listed below
//   params.fhe   parameters (ParamSpec + generated primes)
//   public.key   public key
//   relin.key    relinearization key           (optional)
//   galois.key   Galois keys for the rotations  (optional)
//   secret.key   the secret key, mode 0600, never listed with a digest
// Everything except secret.key may be copied to peers (`ShareableFiles()`);
// an evaluator's copy simply has no secret.key.
//
// Loading checks, naming the file in every error: the manifest parses and has
// a known version; each listed file exists, is no larger than
// kKeyFileBytesMax and has the listed digest (a file from another key set or
// a corrupted one is refused); the parameters rebuild to the listed hash; each
// key carries the listed key id and parameter hash; secret.key is readable by
// its owner only (mode & 077 == 0, as ssh insists) and has the listed key id.
//
// Writing is crash-safe per file (write to a temporary name, fsync, rename);
// SaveKeySet refuses a DIR that already holds a keyset.txt unless `overwrite`.
// Thread-safety: free functions without shared state; the returned objects
// are immutable values (keys behind shared_ptr<const>).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fhe/ciphertext.h"
#include "fhe/params.h"

namespace swarm::fhe {

inline constexpr int kKeySetFormatVersion = 1;
inline constexpr size_t kKeyFileBytesMax = size_t{1} << 32;  // = kSerializedBytesMax
inline constexpr size_t kManifestBytesMax = 64 * 1024;

inline constexpr const char* kManifestFile = "keyset.txt";
inline constexpr const char* kParamsFile = "params.fhe";
inline constexpr const char* kPublicKeyFile = "public.key";
inline constexpr const char* kRelinKeyFile = "relin.key";
inline constexpr const char* kGaloisKeysFile = "galois.key";
inline constexpr const char* kSecretKeyFile = "secret.key";

// What a peer needs to evaluate and to encrypt: no secret.
struct EvalKeys {
  ContextPtr ctx;
  KeyId key_id{};
  std::shared_ptr<const PublicKey> public_key;
  std::shared_ptr<const RelinKey> relin_key;    // null when the set has none
  std::shared_ptr<const GaloisKeys> galois_keys;  // null when the set has none
};

// The key holder's view: evaluation keys plus the secret.
struct KeySet {
  EvalKeys eval;
  std::shared_ptr<const SecretKey> secret_key;
};

struct KeyGenOptions {
  bool relin_key = true;
  // Left-rotation steps for Galois keys; empty and `galois_keys` = every power
  // of two in both directions (KeyGenerator's default).
  bool galois_keys = true;
  std::vector<int> rotations;
  bool conjugate = false;
};

// Generates a fresh key set (randomness from RAND_bytes) for `spec`.
StatusOr<KeySet> GenerateKeySet(const ParamSpec& spec, const KeyGenOptions& options = {});

// Writes `keys` into `dir` (created if missing, mode 0700 for a new dir).
// keys.secret_key may be null (writes an evaluation-only directory).
Status SaveKeySet(const std::string& dir, const KeySet& keys, bool overwrite = false);
// The same for an evaluation-only directory (no secret.key).
Status SaveEvalKeys(const std::string& dir, const EvalKeys& keys, bool overwrite = false);

// Loads params, public, relinearization and Galois keys; never opens secret.key.
StatusOr<EvalKeys> LoadEvalKeys(const std::string& dir);
// Loads secret.key of `dir` and checks it against the manifest and `ctx`.
StatusOr<std::shared_ptr<const SecretKey>> LoadSecretKey(const std::string& dir, const Context& ctx);
// Both of the above.
StatusOr<KeySet> LoadKeySet(const std::string& dir);

// File names in a key directory that may be given to other peers.
std::vector<std::string> ShareableFiles();

// Lower-case hex of a key id (for logs and status pages).
std::string KeyIdHex(const KeyId& id);

}  // namespace swarm::fhe
