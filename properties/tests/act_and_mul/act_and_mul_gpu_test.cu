// GPU act_and_mul kernels against their host twins, bit for bit, over whole arenas (outputs, the
// input they must not touch, padding and canaries):
//  - every fp16 and bf16 gate pattern, with unit ups and with drawn ups, for all six profiles, on
//    the vector path and (with an odd offset) the element path; fp32 gates on a wide sample;
//  - every d from 1 to 4100 in bf16 (profiles rotating), and a stratified sample of sizes to
//    28672 (3420 = 8 * 427 + 4, the model sizes) in every dtype and profile;
//  - token counts 1, 7, 131..133, 255..257, 1024, 4096 on sample sizes;
//  - padded strides and odd offsets throughout (the element path);
//  - rows whose element offsets pass 2^31 (64-bit addressing);
//  - num_tokens == 0 launches nothing (a captured graph has no node);
//  - unsupported calls change no byte of any buffer and leave no CUDA error.
// Twin and reference agree on every 16-bit gate (act_and_mul_exhaustive_test.cpp), so the first
// test also makes the GPU kernels correctly rounded on every 16-bit gate.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "kc/props/act_and_mul.h"
#include "kc/props/device.h"
#include "kc/props/family.h"

namespace kc::props {
namespace {

const std::vector<std::string> kProfiles = act_kernel_profiles();

// A case with random value classes, strides and offsets (or contiguous and aligned: `plain`).
Case make_case(const std::string& profile, DType dtype, std::int64_t d, std::int64_t tokens,
               std::uint64_t seed, bool plain = false) {
  std::mt19937_64 rng(seed);
  Case c = act_case(profile, dtype, tokens, d, rng());
  c.row_classes.clear();
  for (int k = 0; k < 3; ++k) {
    c.row_classes.push_back(
        static_cast<std::uint8_t>(rng() % static_cast<std::uint64_t>(ActRowClass::kCount)));
  }
  if (!plain) {
    for (TensorLayout& l : c.tensors) {
      l.row_stride += static_cast<std::int64_t>(rng() % 3 == 0 ? rng() % 21 : 0);
      l.offset = static_cast<std::int64_t>(rng() % 4 == 0 ? 0 : rng() % 16);
    }
    if (rng() % 8 == 0) {
      c.injections.push_back(Injection{0, static_cast<std::int64_t>(rng()),
                                       static_cast<std::int64_t>(rng()),
                                       static_cast<Special>(rng() % 3)});
    }
  }
  return c;
}

// "" when GPU and twin leave identical arenas from `host`; otherwise the first difference.
std::string compare_gpu_twin(const Case& c, const CaseBuffers& host, cudaStream_t stream) {
  CaseBuffers twin = host;
  CaseBuffers gpu = host;
  std::string err;
  DeviceCase dev;
  if (!dev.upload(gpu, &err)) return err;
  const Status sg = act_and_mul(act_and_mul_args(c, dev.pointers(gpu, 2)), stream);
  if (!sg.is_ok()) return "GPU: " + sg.to_string();
  const cudaError_t e = cudaStreamSynchronize(stream);
  if (e != cudaSuccess) return std::string("kernel failed: ") + cudaGetErrorString(e);
  if (!dev.download(gpu, &err)) return err;
  const Status st = act_and_mul_twin(act_and_mul_args(c, host_pointers(twin, 2)));
  if (!st.is_ok()) return "twin: " + st.to_string();
  for (std::size_t a = 0; a < twin.owned.size(); ++a) {
    const auto& x = twin.owned[a].storage;
    const auto& y = gpu.owned[a].storage;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (x[i] != y[i]) {
        const HostTensor& t = twin.owned[a];
        const long long el = (static_cast<long long>(i) - static_cast<long long>(t.begin)) /
                             static_cast<long long>(t.elem);
        return "arena " + std::to_string(a) + " byte " + std::to_string(i) + " (element offset " +
               std::to_string(el) + (t.is_element[i] ? ", an element" : ", canary/padding") +
               "): twin " + std::to_string(x[i]) + " gpu " + std::to_string(y[i]) + " | " +
               describe(c);
      }
    }
  }
  return "";
}

std::string compare_gpu_twin(const Case& c, cudaStream_t stream) {
  return compare_gpu_twin(c, materialize(c), stream);
}

// Runs the comparisons of cases 0..n-1 on every core, each thread with its own stream.
std::string parallel_cases(std::size_t n,
                           const std::function<std::string(std::size_t, cudaStream_t)>& one) {
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  std::string first;
  const unsigned threads = std::max(1u, std::min(16u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      cudaStream_t s;
      cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
      for (std::size_t i = next++; i < n; i = next++) {
        const std::string r = one(i, s);
        if (!r.empty()) {
          std::lock_guard<std::mutex> lock(mu);
          if (first.empty()) first = r;
          next = n;
        }
      }
      cudaStreamDestroy(s);
    });
  }
  for (std::thread& t : pool) t.join();
  return first;
}

TEST(ActAndMulGpuTest, BitwiseEverySixteenBitGate) {
  // (profile, dtype, ups drawn or unit, element path): 6 x 2 x 2 x 2 cases of 2 x 65536 gates.
  // The element path by an odd offset; the vector path by aligned rows and a big enough job.
  const std::string r = parallel_cases(kProfiles.size() * 8, [](std::size_t i, cudaStream_t s) {
    const std::string& profile = kProfiles[i / 8];
    const DType dtype = (i & 1) ? DType::kFp16 : DType::kBf16;
    const bool unit = (i >> 1) & 1;
    const bool element_path = (i >> 2) & 1;
    const std::int64_t d = 65536;
    // The vector path: aligned rows, and 34 of them (rows 2..33 drawn values), a job of more
    // elements than a full H100 grid has threads (132 x 64 x 256), so that it stays on the vector
    // path under a launch shape that gives small jobs one element a thread
    // (bench/notes/act_and_mul_element_path_small_jobs.patch).
    Case c = act_case(profile, dtype, element_path ? 2 : 34, d, 3);
    if (element_path) c.tensors[ActAndMulTensors::kInput].offset = 1;
    CaseBuffers b = materialize(c);
    HostTensor& in = b.tensor(ActAndMulTensors::kInput);
    std::mt19937_64 rng(i);
    const std::uint32_t one = dtype == DType::kBf16 ? 0x3f80u : 0x3c00u;
    for (std::int64_t row = 0; row < 2; ++row) {
      for (std::int64_t j = 0; j < d; ++j) {
        in.set(row, j, static_cast<std::uint32_t>(row == 0 ? j : (j * 40503) & 0xffff));
        in.set(row, d + j, unit ? one : static_cast<std::uint32_t>(rng() & 0xffff));
      }
    }
    return compare_gpu_twin(c, b, s);
  });
  EXPECT_EQ(r, "");
}

TEST(ActAndMulGpuTest, BitwiseFp32GateSample) {
  // 2^20 fp32 gates a case: every exponent, random significands, both signs.
  const std::string r = parallel_cases(kProfiles.size() * 2, [](std::size_t i, cudaStream_t s) {
    const std::int64_t d = 1 << 20;
    Case c = act_case(kProfiles[i / 2], DType::kFp32, 1, d, 5);
    if (i & 1) c.tensors[ActAndMulTensors::kOutput].offset = 1;
    CaseBuffers b = materialize(c);
    HostTensor& in = b.tensor(ActAndMulTensors::kInput);
    std::mt19937_64 rng(100 + i);
    for (std::int64_t j = 0; j < d; ++j) {
      in.set(0, j, static_cast<std::uint32_t>(rng()));
      in.set(0, d + j, static_cast<std::uint32_t>(rng()));
    }
    return compare_gpu_twin(c, b, s);
  });
  EXPECT_EQ(r, "");
}

TEST(ActAndMulGpuTest, BitwiseEveryBf16DTo4100) {
  const std::string r = parallel_cases(4100, [](std::size_t i, cudaStream_t s) {
    const std::int64_t d = static_cast<std::int64_t>(i) + 1;
    return compare_gpu_twin(
        make_case(kProfiles[i % kProfiles.size()], DType::kBf16, d, 2 + (i % 3), i, i % 2 == 0), s);
  });
  EXPECT_EQ(r, "");
}

TEST(ActAndMulGpuTest, BitwiseStratifiedAllDtypes) {
  const std::vector<std::int64_t> sizes = {1,    7,     8,     9,     63,    64,
                                           65,   1023,  1024,  1025,  2048,  3420,
                                           4096, 11008, 13824, 14336, 18944, 28672};
  std::vector<std::tuple<std::int64_t, DType, std::string>> items;
  for (std::int64_t d : sizes) {
    for (DType t : kAllDTypes) {
      for (const std::string& p : kProfiles) items.emplace_back(d, t, p);
    }
  }
  const std::string r = parallel_cases(2 * items.size(), [&](std::size_t i, cudaStream_t s) {
    const auto& [d, t, p] = items[i / 2];
    return compare_gpu_twin(make_case(p, t, d, 3, 1000 + i, i % 2 == 0), s);
  });
  EXPECT_EQ(r, "");
}

TEST(ActAndMulGpuTest, BitwiseTokenCounts) {
  std::vector<std::pair<std::int64_t, std::int64_t>> items;
  for (std::int64_t t : {1, 7, 131, 132, 133, 255, 256, 257, 1024, 4096}) {
    for (std::int64_t d : {64, 1000, 4096, 14336}) items.emplace_back(t, d);
  }
  const std::string r = parallel_cases(items.size(), [&](std::size_t i, cudaStream_t s) {
    return compare_gpu_twin(make_case(kProfiles[i % kProfiles.size()], DType::kBf16,
                                      items[i].second, items[i].first, 5000 + i, i % 2 == 0),
                            s);
  });
  EXPECT_EQ(r, "");
}

// Rows whose element offsets pass 2^31: d = 2^20, 1040 rows of 2^21 input elements (bf16,
// 4.4 GB in, 2.2 GB out); the last two rows compared with the twin.
TEST(ActAndMulGpuTest, SixtyFourBitAddressing) {
  const std::int64_t d = 1 << 20, rows = 1040;
  const std::size_t in_elems = static_cast<std::size_t>(rows * 2 * d);
  const std::size_t out_elems = static_cast<std::size_t>(rows * d);
  void* x = nullptr;
  void* y = nullptr;
  ASSERT_EQ(cudaMalloc(&x, in_elems * 2), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&y, out_elems * 2), cudaSuccess);
  std::vector<std::uint16_t> host_in(static_cast<std::size_t>(4 * d));
  std::mt19937 rng(9);
  for (std::uint16_t& v : host_in)
    v = static_cast<std::uint16_t>(0x3000 + (rng() & 0x1fff)) | ((rng() & 1) << 15);
  // The last two rows get the drawn values; the rest zeros.
  ASSERT_EQ(cudaMemset(x, 0, in_elems * 2), cudaSuccess);
  const std::size_t last2 = static_cast<std::size_t>((rows - 2) * 2 * d);
  ASSERT_EQ(cudaMemcpy(static_cast<std::uint16_t*>(x) + last2, host_in.data(), host_in.size() * 2,
                       cudaMemcpyHostToDevice),
            cudaSuccess);
  for (const std::string& p :
       {std::string("act_and_mul.silu.single"), std::string("act_and_mul.gelu.torch")}) {
    ActAndMulArgs a;
    act_modes(p, &a.act, &a.rounding);
    a.num_tokens = rows;
    a.d = d;
    a.input = ConstRows{x, DType::kBf16, 2 * d};
    a.output = Rows{y, DType::kBf16, d};
    ASSERT_TRUE(act_and_mul(a, nullptr).is_ok());
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    std::vector<std::uint16_t> got(static_cast<std::size_t>(2 * d)), want(got.size());
    ASSERT_EQ(cudaMemcpy(got.data(), static_cast<std::uint16_t*>(y) + (rows - 2) * d,
                         got.size() * 2, cudaMemcpyDeviceToHost),
              cudaSuccess);
    ActAndMulArgs h = a;
    h.num_tokens = 2;
    h.input.data = host_in.data();
    h.output.data = want.data();
    ASSERT_TRUE(act_and_mul_twin(h).is_ok());
    EXPECT_TRUE(got == want) << p;
  }
  cudaFree(x);
  cudaFree(y);
}

TEST(ActAndMulGpuTest, EmptyBatchLaunchesNothing) {
  cudaStream_t s;
  ASSERT_EQ(cudaStreamCreate(&s), cudaSuccess);
  for (const std::string& p : kProfiles) {
    Case c = act_case(p, DType::kBf16, 0, 4096);
    const std::vector<void*> null_ptrs(2, nullptr);
    cudaGraph_t graph;
    ASSERT_EQ(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal), cudaSuccess);
    const Status st = act_and_mul(act_and_mul_args(c, null_ptrs), s);
    ASSERT_EQ(cudaStreamEndCapture(s, &graph), cudaSuccess);
    EXPECT_TRUE(st.is_ok()) << st.to_string();
    std::size_t nodes = 1;
    ASSERT_EQ(cudaGraphGetNodes(graph, nullptr, &nodes), cudaSuccess);
    EXPECT_EQ(nodes, 0u) << p;
    cudaGraphDestroy(graph);
    EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  }
  cudaStreamDestroy(s);
}

// Each unsupported call: rejected, no byte of any buffer changed, no CUDA error afterwards.
TEST(ActAndMulGpuTest, UnsupportedCallsLeaveNoTrace) {
  const Case base = act_case("act_and_mul.gelu.torch", DType::kBf16, 4, 256, 77);
  std::vector<std::function<void(ActAndMulArgs&)>> breaks = {
      [](ActAndMulArgs& a) { a.d = 0; },
      [](ActAndMulArgs& a) { a.d = kMaxActD + 1; },
      [](ActAndMulArgs& a) { a.num_tokens = -1; },
      [](ActAndMulArgs& a) { a.input.row_stride = 2 * a.d - 1; },
      [](ActAndMulArgs& a) { a.output.row_stride = a.d - 1; },
      [](ActAndMulArgs& a) { a.output.dtype = DType::kFp16; },
      [](ActAndMulArgs& a) { a.input.data = nullptr; },
      [](ActAndMulArgs& a) { a.output.data = const_cast<void*>(a.input.data); },
      [](ActAndMulArgs& a) { a.output.data = static_cast<char*>(a.output.data) + 1; },
      [](ActAndMulArgs& a) { a.act = static_cast<Activation>(9); },
  };
  for (std::size_t k = 0; k < breaks.size(); ++k) {
    CaseBuffers host = materialize(base);
    const CaseBuffers before = host;
    DeviceCase dev;
    std::string err;
    ASSERT_TRUE(dev.upload(host, &err)) << err;
    ActAndMulArgs a = act_and_mul_args(base, dev.pointers(host, 2));
    breaks[k](a);
    const Status st = act_and_mul(a, nullptr);
    EXPECT_FALSE(st.is_ok()) << "break " << k;
    EXPECT_EQ(cudaGetLastError(), cudaSuccess) << "break " << k;
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess) << "break " << k;
    ASSERT_TRUE(dev.download(host, &err)) << err;
    for (std::size_t i = 0; i < host.owned.size(); ++i) {
      EXPECT_TRUE(host.owned[i].storage == before.owned[i].storage)
          << "break " << k << " (" << st.to_string() << ") changed arena " << i;
    }
  }
}

}  // namespace
}  // namespace kc::props
