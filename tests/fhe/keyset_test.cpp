#include "fhe/keyset.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "fhe/ckks.h"
#include "fhe/serialize.h"

namespace swarm::fhe {
namespace {

namespace fs = std::filesystem;

std::string TempDir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("fhe_keyset_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(p);
  return p.string();
}

KeySet Small(std::vector<int> rotations = {1, -1}) {
  KeyGenOptions o;
  o.galois_keys = !rotations.empty();
  o.rotations = std::move(rotations);
  auto ks = GenerateKeySet(*CkksPreset(4096), o);
  EXPECT_TRUE(ks.ok()) << ks.status();
  return *ks;
}

TEST(KeySet, SaveLoadRoundTripAndDecryptsWhatLoadedKeysEncrypt) {
  std::string dir = TempDir("roundtrip");
  KeySet ks = Small();
  ASSERT_TRUE(SaveKeySet(dir, ks).ok());
  for (auto name : ShareableFiles()) EXPECT_TRUE(fs::exists(fs::path(dir) / name)) << name;
  struct stat st {};
  ASSERT_EQ(::stat((fs::path(dir) / kSecretKeyFile).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto ev = LoadEvalKeys(dir);
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(ev->key_id, ks.eval.key_id);
  EXPECT_EQ(ev->ctx->hash(), ks.eval.ctx->hash());
  ASSERT_TRUE(ev->relin_key && ev->galois_keys);
  EXPECT_TRUE(ev->galois_keys->Has(GaloisElementForRotation(4096, 1)));
  auto sk = LoadSecretKey(dir, *ev->ctx);
  ASSERT_TRUE(sk.ok()) << sk.status();

  CkksEncoder enc(ev->ctx);
  auto e = Encryptor::Create(ev->ctx, *ev->public_key);
  ASSERT_TRUE(e.ok());
  auto ct = e->Encrypt(*enc.Encode(std::vector<double>{1.5, -2, 3}));
  ASSERT_TRUE(ct.ok());
  CkksEvaluator evaluator(ev->ctx, ev->relin_key, ev->galois_keys);
  auto rot = evaluator.Rotate(*ct, 1);
  ASSERT_TRUE(rot.ok()) << rot.status();
  auto v = enc.Decode(*Decryptor::Create(ev->ctx, **sk)->Decrypt(*rot));
  ASSERT_TRUE(v.ok());
  EXPECT_NEAR((*v)[0], -2, 1e-3);
  EXPECT_NEAR((*v)[1], 3, 1e-3);
  fs::remove_all(dir);
}

TEST(KeySet, EvalOnlyDirectoryHasNoSecretAndSaysSo) {
  std::string dir = TempDir("evalonly");
  KeySet ks = Small();
  ASSERT_TRUE(SaveEvalKeys(dir, ks.eval).ok());
  EXPECT_FALSE(fs::exists(fs::path(dir) / kSecretKeyFile));
  ASSERT_TRUE(LoadEvalKeys(dir).ok());
  auto sk = LoadKeySet(dir);
  ASSERT_FALSE(sk.ok());
  EXPECT_NE(sk.status().message().find("evaluation keys only"), std::string::npos) << sk.status();
  fs::remove_all(dir);
}

TEST(KeySet, RefusesOverwriteUnlessAsked) {
  std::string dir = TempDir("overwrite");
  KeySet ks = Small();
  ASSERT_TRUE(SaveKeySet(dir, ks).ok());
  auto again = SaveKeySet(dir, Small());
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
  ASSERT_TRUE(SaveKeySet(dir, Small(), /*overwrite=*/true).ok());
  auto ev = LoadEvalKeys(dir);
  ASSERT_TRUE(ev.ok());
  EXPECT_NE(ev->key_id, ks.eval.key_id);
  fs::remove_all(dir);
}

TEST(KeySet, FileFromAnotherKeySetIsRefusedNamingTheFile) {
  std::string a = TempDir("mix_a"), b = TempDir("mix_b");
  ASSERT_TRUE(SaveKeySet(a, Small()).ok());
  ASSERT_TRUE(SaveKeySet(b, Small()).ok());
  // Swap in b's relinearization key: digest mismatch names the file.
  fs::copy_file(fs::path(b) / kRelinKeyFile, fs::path(a) / kRelinKeyFile, fs::copy_options::overwrite_existing);
  auto ev = LoadEvalKeys(a);
  ASSERT_FALSE(ev.ok());
  EXPECT_NE(ev.status().message().find("relin.key"), std::string::npos) << ev.status();
  // Swap in b's secret key (no digest listed): the key id check catches it.
  fs::copy_file(fs::path(b) / kRelinKeyFile, fs::path(a) / kRelinKeyFile, fs::copy_options::overwrite_existing);
  std::string a2 = TempDir("mix_a2");
  ASSERT_TRUE(SaveKeySet(a2, Small()).ok());
  fs::copy_file(fs::path(b) / kSecretKeyFile, fs::path(a2) / kSecretKeyFile, fs::copy_options::overwrite_existing);
  auto ev2 = LoadEvalKeys(a2);
  ASSERT_TRUE(ev2.ok());
  auto sk = LoadSecretKey(a2, *ev2->ctx);
  ASSERT_FALSE(sk.ok());
  EXPECT_NE(sk.status().message().find("secret.key"), std::string::npos) << sk.status();
  EXPECT_NE(sk.status().message().find("key id"), std::string::npos) << sk.status();
  fs::remove_all(a);
  fs::remove_all(b);
  fs::remove_all(a2);
}

TEST(KeySet, CorruptedManifestAndTruncatedKeyAndLooseSecretModeAreErrors) {
  std::string dir = TempDir("corrupt");
  ASSERT_TRUE(SaveKeySet(dir, Small({})).ok());
  // Loose permissions on the secret key.
  ::chmod((fs::path(dir) / kSecretKeyFile).c_str(), 0644);
  auto ev = LoadEvalKeys(dir);
  ASSERT_TRUE(ev.ok());
  auto sk = LoadSecretKey(dir, *ev->ctx);
  ASSERT_FALSE(sk.ok());
  EXPECT_NE(sk.status().message().find("0644"), std::string::npos) << sk.status();
  // Truncated public key.
  fs::resize_file(fs::path(dir) / kPublicKeyFile, 100);
  auto ev2 = LoadEvalKeys(dir);
  ASSERT_FALSE(ev2.ok());
  EXPECT_NE(ev2.status().message().find("public.key"), std::string::npos) << ev2.status();
  // Manifest with a bad line.
  {
    std::ofstream(fs::path(dir) / kManifestFile, std::ios::app) << "colour blue\n";
  }
  auto ev3 = LoadEvalKeys(dir);
  ASSERT_FALSE(ev3.ok());
  EXPECT_NE(ev3.status().message().find("unknown field 'colour'"), std::string::npos) << ev3.status();
  // Not a directory at all.
  auto ev4 = LoadEvalKeys(dir + "/nope");
  ASSERT_FALSE(ev4.ok());
  EXPECT_NE(ev4.status().message().find("not a directory"), std::string::npos) << ev4.status();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace swarm::fhe
