// The wire layer a worker runs on peer input: prepare, decode, run, lie.
#include "jobs/wire.h"

#include <gtest/gtest.h>

#include "fhe_fixture.h"
#include "fixtures.h"

namespace swarm::jobs {
namespace {

const std::string kCircuit = testing::AddXX();

struct Wire {
  testing::FheFixture f = testing::FheFixture::Make(fhe::Scheme::kCkks, 8192, {}, false);
  swarm::v1::JobKeys keys;
  Wire() {
    const Bytes p = fhe::SerializeParams(*f.keys.ctx);
    const Bytes r = fhe::Serialize(*f.keys.ctx, *f.keys.relin);
    keys.set_params(std::string(p.begin(), p.end()));
    keys.set_relin_key(std::string(r.begin(), r.end()));
  }
  Bytes Ct(double v) { return fhe::Serialize(*f.keys.ctx, f.EncryptCkks({v})); }
};

Wire& W() {
  static Wire w;
  return w;
}

TEST(Wire, HonestRunsAgreeAndALiarDiffers) {
  auto job = PrepareJob(kCircuit, W().keys);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ((*job)->job_key, JobKey(kCircuit, W().keys));
  const auto batch = ToBatch({{"x", W().Ct(1.25)}});
  swarm::v1::RunTaskReply a, b, lie;
  ASSERT_TRUE(RunTask(**job, batch, false, &a).ok());
  ASSERT_TRUE(RunTask(**job, batch, false, &b).ok());
  ASSERT_TRUE(RunTask(**job, batch, true, &lie).ok());
  EXPECT_EQ(a.digest(), b.digest());
  EXPECT_EQ(a.outputs().SerializeAsString(), b.outputs().SerializeAsString());
  EXPECT_NE(a.digest(), lie.digest());
  ASSERT_EQ(a.outputs().values_size(), 1);
  auto out = FromBatch(a.outputs());
  auto ct = fhe::DeserializeCiphertext(*W().f.keys.ctx, out.at("y"));
  ASSERT_TRUE(ct.ok());
  EXPECT_NEAR(W().f.DecryptCkks(*ct)[0], 2.5, 1e-3);
}

TEST(Wire, RefusesBadBatchesWithTheField) {
  auto job = *PrepareJob(kCircuit, W().keys);
  const auto err = [&](const swarm::v1::Batch& b) {
    auto v = DecodeBatch(*job, b);
    EXPECT_FALSE(v.ok());
    return std::string(v.status().message());
  };
  EXPECT_NE(err(ToBatch({{"z", W().Ct(1)}})).find("input 'z' is not a circuit input"), std::string::npos);
  EXPECT_NE(err(swarm::v1::Batch()).find("input 'x' is missing"), std::string::npos);
  swarm::v1::Batch twice = ToBatch({{"x", W().Ct(1)}});
  *twice.add_values() = twice.values(0);
  EXPECT_NE(err(twice).find("given twice"), std::string::npos);
  Bytes trunc = W().Ct(1);
  trunc.resize(trunc.size() / 2);
  EXPECT_NE(err(ToBatch({{"x", trunc}})).find("input 'x'"), std::string::npos);
}

TEST(Wire, RefusesBadJobs) {
  EXPECT_FALSE(PrepareJob("scheme = \"ckks\"", W().keys).ok());
  swarm::v1::JobKeys none;
  auto e = PrepareJob(kCircuit, none);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("keys.params is empty"), std::string::npos);
  swarm::v1::JobKeys junk = W().keys;
  junk.set_relin_key("garbage");
  e = PrepareJob(kCircuit, junk);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("relinearization key"), std::string::npos) << e.status();
  std::string bfv = kCircuit;
  bfv.replace(bfv.find("ckks"), 4, "bfv");
  e = PrepareJob(bfv, W().keys);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("circuit scheme BFV"), std::string::npos) << e.status();
}

}  // namespace
}  // namespace swarm::jobs
