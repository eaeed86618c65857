// GPU norm kernels against their host twins, bit for bit, over whole arenas (outputs, the
// inputs they must not touch, padding and canaries):
//  - every hidden size 1..16384 in bf16 (two profiles each, rotating through all seven);
//  - a stratified sample of sizes up to 65536 in fp16, fp32 and bf16, every profile;
//  - token counts 1, 7, 131..133 (SM count edges), 255, 256, 257, 1024, 4096 on sample sizes;
//  - padded strides, odd offsets, in place and out of place throughout;
//  - 2^24 + 3 rows whose element offsets pass 2^32 (64-bit addressing);
//  - num_tokens == 0 launches nothing (a captured graph has no node);
//  - unsupported calls change no byte of any buffer and leave no CUDA error;
//  - the device's fp32 -> fp16/bf16 conversions, scalar and packed (Vec16::set_pair), equal the
//    shared software ones on all 2^32 inputs.
// The *Sanitizer* test is the representative subset run under compute-sanitizer.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "common/scalar.h"
#include "common/vec.cuh"
#include "kc/props/device.h"
#include "kc/props/family.h"
#include "kc/props/rmsnorm.h"

namespace kc::props {
namespace {

// Every profile the kernels implement, in the family's table order.
const std::vector<std::string> kProfiles = norm_kernel_profiles();

const NormRowClass kClasses[] = {
    NormRowClass::kNormal,      NormRowClass::kTiny,         NormRowClass::kHuge,
    NormRowClass::kSubnormal,   NormRowClass::kConstant,     NormRowClass::kOneHot,
    NormRowClass::kAlternating, NormRowClass::kEpsDominated, NormRowClass::kZero};

Case make_case(const std::string& profile, DType dtype, std::int64_t hidden, std::int64_t tokens,
               std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const float eps = (seed % 3 == 0) ? 1e-5f : (seed % 3 == 1) ? 1e-6f : 0x1p-7f;
  const std::uint64_t data_seed = rng();
  Case c = norm_case(profile, dtype, tokens, hidden, eps, data_seed);
  const NormRowClass r0 = kClasses[rng() % std::size(kClasses)];
  const NormRowClass r1 = kClasses[rng() % std::size(kClasses)];
  set_norm_classes(c, {r0, r1},
                   static_cast<NormWeightClass>(rng() % static_cast<int>(NormWeightClass::kCount)));
  const bool in_place = rng() % 2 == 0;
  const OpSpec& op = *find_op(c.op);
  c.tensors.clear();
  for (const TensorSpec& spec : op.tensors) {
    TensorLayout l;
    l.row_stride = hidden + static_cast<std::int64_t>(rng() % 3 == 0 ? rng() % 21 : 0);
    l.offset = static_cast<std::int64_t>(rng() % 4 == 0 ? 0 : rng() % 16);
    l.in_place = spec.output() && in_place;
    c.tensors.push_back(l);
  }
  // Now and then a special value, so NaN/inf rows run through both sides too.
  if (rng() % 8 == 0) {
    c.injections.push_back(Injection{static_cast<int>(rng() % 3), static_cast<std::int64_t>(rng()),
                                     static_cast<std::int64_t>(rng()),
                                     static_cast<Special>(rng() % 3)});
  }
  return c;
}

Status run(const Case& c, const std::vector<void*>& ptr, bool gpu, cudaStream_t stream) {
  if (c.op == "rmsnorm") {
    const RmsNormArgs a = rmsnorm_args(c, ptr);
    return gpu ? rmsnorm(a, stream) : rmsnorm_twin(a);
  }
  const FusedAddRmsNormArgs a = fused_add_rmsnorm_args(c, ptr);
  return gpu ? fused_add_rmsnorm(a, stream) : fused_add_rmsnorm_twin(a);
}

// "" when the GPU and the twin leave identical arenas; otherwise the first difference.
std::string compare_gpu_twin(const Case& c, cudaStream_t stream) {
  const OpSpec& op = *find_op(c.op);
  CaseBuffers twin = materialize(c);
  CaseBuffers gpu = twin;
  std::string err;
  DeviceCase dev;
  if (!dev.upload(gpu, &err)) return err;
  const Status sg = run(c, dev.pointers(gpu, op.tensors.size()), true, stream);
  if (!sg.is_ok()) return "GPU: " + sg.to_string();
  const cudaError_t e = cudaStreamSynchronize(stream);
  if (e != cudaSuccess) return std::string("kernel failed: ") + cudaGetErrorString(e);
  if (!dev.download(gpu, &err)) return err;
  const Status st = run(c, host_pointers(twin, op.tensors.size()), false, stream);
  if (!st.is_ok()) return "twin: " + st.to_string();
  for (std::size_t a = 0; a < twin.owned.size(); ++a) {
    const ArenaBytes& x = twin.owned[a].storage;
    const ArenaBytes& y = gpu.owned[a].storage;
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

// Runs fn(i) for i in [0, n) on every core, each thread with its own stream; returns the first
// failure.
std::string parallel_cases(std::size_t n, const std::function<Case(std::size_t)>& make) {
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
        const std::string r = compare_gpu_twin(make(i), s);
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

TEST(RmsNormGpuTest, BitwiseEveryBf16HiddenTo16384) {
  const std::size_t sizes = 16384;
  const std::string r = parallel_cases(2 * sizes, [](std::size_t i) {
    const std::int64_t hidden = static_cast<std::int64_t>(i / 2) + 1;
    const std::string& profile = kProfiles[(i / 2 + (i % 2) * 3) % kProfiles.size()];
    return make_case(profile, DType::kBf16, hidden, 2 + static_cast<std::int64_t>(i % 2), i);
  });
  EXPECT_EQ(r, "");
}

TEST(RmsNormGpuTest, BitwiseStratifiedAllDtypesTo65536) {
  std::vector<std::int64_t> sizes = {
      1,     2,     3,     7,     8,     9,     31,    33,    64,    100,   127,   128,   129,
      255,   256,   257,   511,   512,   513,   769,   1000,  1023,  1024,  1025,  2047,  2048,
      2052,  3584,  4095,  4096,  4100,  5120,  8191,  8192,  8193,  12288, 16383, 16384, 16385,
      18432, 24576, 32767, 32768, 32769, 40000, 49152, 65532, 65535, 65536};
  struct Item {
    std::int64_t hidden;
    DType dtype;
    const char* profile;
  };
  std::vector<Item> items;
  for (std::int64_t h : sizes) {
    for (DType d : kAllDTypes) {
      for (const std::string& p : kProfiles) items.push_back({h, d, p.c_str()});
    }
  }
  const std::string r = parallel_cases(items.size(), [&](std::size_t i) {
    return make_case(items[i].profile, items[i].dtype, items[i].hidden, 2, 1000 + i);
  });
  EXPECT_EQ(r, "");
}

TEST(RmsNormGpuTest, BitwiseTokenCounts) {
  struct Item {
    std::int64_t tokens, hidden;
    DType dtype;
    const char* profile;
  };
  std::vector<Item> items;
  for (std::int64_t t : {1, 7, 131, 132, 133, 255, 256, 257, 1024, 4096}) {
    for (std::int64_t h : {64, 769, 4096, 8192, 16384}) {
      items.push_back({t, h, DType::kBf16, "rmsnorm.fp32"});
      items.push_back({t, h, DType::kBf16, "fused_add_rmsnorm.hf"});
      items.push_back({t, h, DType::kFp16, "fused_add_rmsnorm.fp32_sum"});
      items.push_back({t, h, DType::kFp32, "rmsnorm.gemma"});
    }
  }
  const std::string r = parallel_cases(items.size(), [&](std::size_t i) {
    return make_case(items[i].profile, items[i].dtype, items[i].hidden, items[i].tokens, 5000 + i);
  });
  EXPECT_EQ(r, "");
}

// The subset compute-sanitizer runs (memcheck, racecheck): every profile, streamed and register
// paths (8192: two lanes a thread in decode and bandwidth launches of 16-bit rows), partial
// vectors, strides, offsets, in place, decode and bandwidth launch shapes.
TEST(RmsNormGpuTest, SanitizerSubset) {
  cudaStream_t s;
  ASSERT_EQ(cudaStreamCreate(&s), cudaSuccess);
  std::size_t k = 0;
  for (const std::string& p : kProfiles) {
    for (std::int64_t h : {1, 13, 769, 4096, 8192, 20000}) {
      for (std::int64_t t : {1, 300}) {
        const DType d = kAllDTypes[k % 3];
        ASSERT_EQ(compare_gpu_twin(make_case(p, d, h, t, 9000 + k), s), "");
        ++k;
      }
    }
  }
  cudaStreamDestroy(s);
}

TEST(RmsNormGpuTest, EmptyBatchLaunchesNothing) {
  cudaStream_t s;
  ASSERT_EQ(cudaStreamCreate(&s), cudaSuccess);
  for (const std::string& p : kProfiles) {
    Case c = make_case(p, DType::kBf16, 4096, 0, 1);
    std::vector<void*> null_ptrs(find_op(c.op)->tensors.size(), nullptr);
    cudaGraph_t graph;
    ASSERT_EQ(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal), cudaSuccess);
    const Status st = run(c, null_ptrs, true, s);
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
TEST(RmsNormGpuTest, UnsupportedCallsLeaveNoTrace) {
  const Case base = make_case("fused_add_rmsnorm.hf", DType::kBf16, 256, 4, 77);
  const OpSpec& op = *find_op(base.op);
  std::vector<std::function<void(FusedAddRmsNormArgs&, const std::vector<void*>&)>> breaks = {
      [](FusedAddRmsNormArgs& a, const std::vector<void*>&) { a.hidden = 0; },
      [](FusedAddRmsNormArgs& a, const std::vector<void*>&) { a.hidden = kMaxHidden + 1; },
      [](FusedAddRmsNormArgs& a, const std::vector<void*>&) { a.num_tokens = -2; },
      [](FusedAddRmsNormArgs& a, const std::vector<void*>&) { a.weight.dtype = DType::kFp16; },
      [](FusedAddRmsNormArgs& a, const std::vector<void*>&) { a.residual.row_stride = 100; },
      [](FusedAddRmsNormArgs& a, const std::vector<void*>&) { a.eps = -1.0f; },
      [](FusedAddRmsNormArgs& a, const std::vector<void*>&) { a.input.data = nullptr; },
      [](FusedAddRmsNormArgs& a, const std::vector<void*>& p) {
        a.output.data = static_cast<char*>(p[1]) + 2;  // over the residual
      },
      [](FusedAddRmsNormArgs& a, const std::vector<void*>&) {
        a.output.data = static_cast<char*>(a.output.data) + 1;  // misaligned element
      },
      [](FusedAddRmsNormArgs& a, const std::vector<void*>&) {
        a.weight_offset = WeightOffset::kOne;
        a.output_rounding = OutputRounding::kCastBeforeWeight;
      },
  };
  for (std::size_t k = 0; k < breaks.size(); ++k) {
    CaseBuffers host = materialize(base);
    const CaseBuffers before = host;
    DeviceCase dev;
    std::string err;
    ASSERT_TRUE(dev.upload(host, &err)) << err;
    const std::vector<void*> ptr = dev.pointers(host, op.tensors.size());
    FusedAddRmsNormArgs a = fused_add_rmsnorm_args(base, ptr);
    breaks[k](a, ptr);
    const Status st = fused_add_rmsnorm(a, nullptr);
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

// bad[0]: mismatches; bad[1]: the smallest input bit pattern that mismatched (for the message).
__global__ void conversion_mismatches(std::uint64_t start, unsigned long long* bad) {
  const std::uint64_t i = start + blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x;
  if (i >= (std::uint64_t{1} << 32)) return;
  const float f = detail::bits_float(static_cast<std::uint32_t>(i));
  unsigned n = 0;
  n += detail::float_to_fp16(f) != detail::float_to_fp16_soft(f);
  n += detail::float_to_bf16(f) != detail::float_to_bf16_soft(f);
  // The kernels' packed conversions, with f paired against a scrambled partner value.
  const float g = detail::bits_float(static_cast<std::uint32_t>(i * 0x9e3779b97f4a7c15ull >> 32));
  detail::Vec16<DType::kBf16> vb;
  vb.set_pair(0, f, g);
  n += vb.w[0] != (detail::float_to_bf16_soft(f) |
                   (static_cast<std::uint32_t>(detail::float_to_bf16_soft(g)) << 16));
  detail::Vec16<DType::kFp16> vh;
  vh.set_pair(0, g, f);
  n += vh.w[0] != (detail::float_to_fp16_soft(g) |
                   (static_cast<std::uint32_t>(detail::float_to_fp16_soft(f)) << 16));
  n += vb.value(0) !=
           detail::bits_float(static_cast<std::uint32_t>(detail::float_to_bf16_soft(f)) << 16) &&
       !detail::is_nan(f);
  if (i < 65536) {
    const auto h = static_cast<std::uint16_t>(i);
    n += detail::float_bits(detail::fp16_to_float(h)) !=
             detail::float_bits(detail::fp16_to_float_soft(h)) &&
         !(detail::is_nan(detail::fp16_to_float(h)) &&
           detail::is_nan(detail::fp16_to_float_soft(h)));
  }
  if (n) {
    atomicAdd(bad, static_cast<unsigned long long>(n));
    atomicMin(bad + 1, static_cast<unsigned long long>(i));
  }
}

TEST(RmsNormGpuTest, DeviceConversionsEqualSoftwareOnAllInputs) {
  unsigned long long* bad = nullptr;
  ASSERT_EQ(cudaMalloc(&bad, 2 * sizeof *bad), cudaSuccess);
  const unsigned long long init[2] = {0ull, ~0ull};
  ASSERT_EQ(cudaMemcpy(bad, init, sizeof init, cudaMemcpyHostToDevice), cudaSuccess);
  const std::uint64_t chunk = std::uint64_t{1} << 30;
  for (std::uint64_t start = 0; start < (std::uint64_t{1} << 32); start += chunk) {
    conversion_mismatches<<<static_cast<unsigned>(chunk / 256), 256>>>(start, bad);
  }
  unsigned long long h[2] = {1ull, 0ull};
  ASSERT_EQ(cudaMemcpy(h, bad, sizeof h, cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_EQ(h[0], 0ull) << "first mismatching input bits 0x" << std::hex << h[1];
  cudaFree(bad);
}

// Row r, element i of the 64-bit addressing test: distinct per row, exact in bf16.
__host__ __device__ inline std::uint16_t big_value(std::int64_t r, std::int64_t i) {
  return static_cast<std::uint16_t>(0x3c00u + ((r * 7 + i * 13) % 0x0600));
}

__global__ void fill_big(std::uint16_t* x, std::int64_t rows, std::int64_t hidden,
                         std::int64_t stride) {
  const std::int64_t k = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (k >= rows * hidden) return;
  const std::int64_t r = k / hidden;
  const std::int64_t i = k % hidden;
  x[r * stride + i] = big_value(r, i);
}

TEST(RmsNormGpuTest, SixteenMillionRowsPast32BitOffsets) {
  const std::int64_t rows = (std::int64_t{1} << 24) + 3;
  const std::int64_t hidden = 16;
  const std::int64_t stride = 272;  // the last rows start past element 2^32
  ASSERT_GT((rows - 1) * stride, std::int64_t{1} << 32);
  std::uint16_t* x = nullptr;
  std::uint16_t* y = nullptr;
  std::uint16_t* w = nullptr;
  ASSERT_EQ(cudaMalloc(&x, static_cast<std::size_t>((rows - 1) * stride + hidden) * 2),
            cudaSuccess);
  ASSERT_EQ(cudaMalloc(&y, static_cast<std::size_t>(rows * hidden) * 2), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&w, hidden * 2), cudaSuccess);
  std::vector<std::uint16_t> wh(hidden);
  for (std::int64_t i = 0; i < hidden; ++i)
    wh[static_cast<std::size_t>(i)] = static_cast<std::uint16_t>(0x3f80 + i);
  ASSERT_EQ(cudaMemcpy(w, wh.data(), hidden * 2, cudaMemcpyHostToDevice), cudaSuccess);
  fill_big<<<static_cast<unsigned>((rows * hidden + 255) / 256), 256>>>(x, rows, hidden, stride);
  RmsNormArgs a;
  a.num_tokens = rows;
  a.hidden = hidden;
  a.input = ConstRows{x, DType::kBf16, stride};
  a.weight = ConstVector{w, DType::kBf16};
  a.output = Rows{y, DType::kBf16, hidden};
  ASSERT_TRUE(rmsnorm(a, nullptr).is_ok());
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  std::vector<std::uint16_t> got(static_cast<std::size_t>(rows * hidden));
  ASSERT_EQ(cudaMemcpy(got.data(), y, got.size() * 2, cudaMemcpyDeviceToHost), cudaSuccess);
  // Twin of sampled rows: first, last, around the 2^31 and 2^32 element offsets, random.
  std::vector<std::int64_t> sample = {0,
                                      1,
                                      rows - 1,
                                      rows - 2,
                                      (std::int64_t{1} << 31) / stride,
                                      (std::int64_t{1} << 32) / stride,
                                      (std::int64_t{1} << 32) / stride + 1};
  std::mt19937_64 rng(3);
  for (int k = 0; k < 200; ++k)
    sample.push_back(static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(rows)));
  for (std::int64_t r : sample) {
    std::vector<std::uint16_t> xr(hidden), yr(hidden);
    for (std::int64_t i = 0; i < hidden; ++i) xr[static_cast<std::size_t>(i)] = big_value(r, i);
    RmsNormArgs t = a;
    t.num_tokens = 1;
    t.input = ConstRows{xr.data(), DType::kBf16, hidden};
    t.weight = ConstVector{wh.data(), DType::kBf16};
    t.output = Rows{yr.data(), DType::kBf16, hidden};
    ASSERT_TRUE(rmsnorm_twin(t).is_ok());
    for (std::int64_t i = 0; i < hidden; ++i) {
      ASSERT_EQ(got[static_cast<std::size_t>(r * hidden + i)], yr[static_cast<std::size_t>(i)])
          << "row " << r << " element " << i;
    }
  }
  cudaFree(x);
  cudaFree(y);
  cudaFree(w);
}

}  // namespace
}  // namespace kc::props
