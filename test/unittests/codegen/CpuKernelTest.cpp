//===- CpuKernelTest.cpp - compiled kernels against C++ references -------===//
//
// End to end through the CPU back end: MLIR functions with a C interface
// are lowered with upstream passes, emitted as objects, loaded with ORC and
// called through their packed entry points with hand-built descriptors;
// results are compared with float64 loops. Covers dynamic shapes, libm
// calls, results allocated by the callee (one and two), a scalar result,
// scalar arguments and the runtime's GEMM.
//
//===----------------------------------------------------------------------===//

#include "CpuTestUtil.h"

#include <cmath>
#include <cstdlib>
#include <limits>

using namespace ::uoe::test;
using ::uoe::rt::MemRefDescriptor;
using ::uoe::rt::PackedArguments;

namespace {

using CpuKernelTest = CpuCodegenTest;

constexpr const char *kElementwise = R"mlir(
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @exp_erf(%x: memref<?x?xf32>, %y: memref<?x?xf32>,
                   %out: memref<?x?xf32>) attributes {llvm.emit_c_interface} {
  linalg.generic {indexing_maps = [#map, #map, #map],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x, %y : memref<?x?xf32>, memref<?x?xf32>)
      outs(%out : memref<?x?xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %e = math.exp %a : f32
    %r = math.erf %b : f32
    %m = arith.mulf %e, %r : f32
    %two = arith.constant 2.0 : f32
    %s = arith.addf %m, %two : f32
    linalg.yield %s : f32
  }
  return
}
)mlir";

// Tests that a dynamic-shape elementwise kernel with libm calls (expf from
// an intrinsic, erff from convert-math-to-libm) computes exp(x)*erf(y)+2.
TEST_F(CpuKernelTest, ElementwiseOnDynamicShapes) {
  auto object = compileAndLoad(kElementwise);
  ASSERT_TRUE(object);
  PackedFn fn = packed(*object, "exp_erf");
  ASSERT_TRUE(fn);
  for (auto [rows, cols, seed] :
       {std::tuple<int64_t, int64_t, unsigned>{7, 13, 1u},
        {1, 1, 2u},
        {33, 65, 3u}}) {
    std::vector<float> x = randomFloats(rows * cols, seed);
    std::vector<float> y = randomFloats(rows * cols, seed + 100);
    std::vector<float> out(rows * cols, -1.0f);
    auto dx = MemRefDescriptor::rowMajor(x.data(), {rows, cols});
    auto dy = MemRefDescriptor::rowMajor(y.data(), {rows, cols});
    auto dout = MemRefDescriptor::rowMajor(out.data(), {rows, cols});
    PackedArguments args;
    args.addMemRef(dx);
    args.addMemRef(dy);
    args.addMemRef(dout);
    fn(args.data());
    for (int64_t i = 0; i < rows * cols; ++i) {
      double expected = std::exp(double(x[i])) * std::erf(double(y[i])) + 2.0;
      EXPECT_NEAR(out[i], expected, 1e-5 * std::abs(expected) + 1e-6)
          << "element " << i << " of " << rows << "x" << cols;
    }
  }
}

constexpr const char *kAllocating = R"mlir(
func.func @sum_diff(%a: memref<5x9xf32>, %b: memref<5x9xf32>)
    -> (memref<5x9xf32>, memref<5x9xf32>) attributes {llvm.emit_c_interface} {
  %s = memref.alloc() : memref<5x9xf32>
  %d = memref.alloc() : memref<5x9xf32>
  linalg.add ins(%a, %b : memref<5x9xf32>, memref<5x9xf32>)
             outs(%s : memref<5x9xf32>)
  linalg.sub ins(%a, %b : memref<5x9xf32>, memref<5x9xf32>)
             outs(%d : memref<5x9xf32>)
  return %s, %d : memref<5x9xf32>, memref<5x9xf32>
}

func.func @twice(%a: memref<5x9xf32>) -> memref<5x9xf32>
    attributes {llvm.emit_c_interface} {
  %r = memref.alloc() : memref<5x9xf32>
  linalg.add ins(%a, %a : memref<5x9xf32>, memref<5x9xf32>)
             outs(%r : memref<5x9xf32>)
  return %r : memref<5x9xf32>
}
)mlir";

// Tests that memref results come back through args[0]: a pointer to the
// result descriptors, one after the other, filled by the callee with
// buffers it malloc'ed (and that free() accepts).
TEST_F(CpuKernelTest, ResultsAllocatedByTheCallee) {
  auto object = compileAndLoad(kAllocating);
  ASSERT_TRUE(object);
  std::vector<float> a = randomFloats(45, 7), b = randomFloats(45, 8);
  auto da = MemRefDescriptor::rowMajor(a.data(), {5, 9});
  auto db = MemRefDescriptor::rowMajor(b.data(), {5, 9});

  // Two results: the struct holds two rank-2 descriptors.
  PackedFn sumDiff = packed(*object, "sum_diff");
  ASSERT_TRUE(sumDiff);
  std::vector<int64_t> results(2 * MemRefDescriptor::sizeInBytes(2) / 8, 0);
  PackedArguments args;
  args.addPointer(results.data());
  args.addMemRef(da);
  args.addMemRef(db);
  sumDiff(args.data());
  for (int r = 0; r < 2; ++r) {
    auto d = MemRefDescriptor::fromWords(results.data() + r * 7, 2);
    ASSERT_NE(d.allocated(), nullptr);
    EXPECT_EQ(d.sizes(), (std::vector<int64_t>{5, 9}));
    EXPECT_EQ(d.strides(), (std::vector<int64_t>{9, 1}));
    EXPECT_TRUE(d.isRowMajor());
    const auto *values = static_cast<const float *>(d.firstElement(4));
    for (int i = 0; i < 45; ++i)
      EXPECT_EQ(values[i], r == 0 ? a[i] + b[i] : a[i] - b[i]) << i;
    std::free(d.allocated());
  }

  // One result: still passed as a pointer in args[0].
  PackedFn twice = packed(*object, "twice");
  ASSERT_TRUE(twice);
  auto result = MemRefDescriptor::empty(2);
  PackedArguments one;
  one.addMemRef(result);
  one.addMemRef(da);
  twice(one.data());
  auto filled = MemRefDescriptor::fromWords(
      static_cast<const int64_t *>(result.data()), 2);
  ASSERT_NE(filled.allocated(), nullptr);
  const auto *values = static_cast<const float *>(filled.firstElement(4));
  for (int i = 0; i < 45; ++i)
    EXPECT_EQ(values[i], 2 * a[i]) << i;
  std::free(filled.allocated());
}

constexpr const char *kScalarResult = R"mlir(
func.func @total(%a: memref<?xf32>) -> f32 attributes {llvm.emit_c_interface} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %a, %c0 : memref<?xf32>
  %zero = arith.constant 0.0 : f32
  %s = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %zero) -> f32 {
    %v = memref.load %a[%i] : memref<?xf32>
    %t = arith.addf %acc, %v : f32
    scf.yield %t : f32
  }
  return %s : f32
}
)mlir";

// Tests that a single scalar result is stored to where args[n] points.
TEST_F(CpuKernelTest, ScalarResultGoesToTheSlotAfterTheArguments) {
  auto object = compileAndLoad(kScalarResult);
  ASSERT_TRUE(object);
  PackedFn fn = packed(*object, "total");
  ASSERT_TRUE(fn);
  std::vector<float> a = randomFloats(101, 11);
  auto da = MemRefDescriptor::rowMajor(a.data(), {101});
  float total = std::numeric_limits<float>::quiet_NaN();
  PackedArguments args;
  args.addMemRef(da);
  args.addScalar(&total);
  fn(args.data());
  double expected = 0;
  for (float v : a)
    expected += v;
  EXPECT_NEAR(total, expected, 1e-4);
}

constexpr const char *kGemm = R"mlir(
func.func private @uoe_sgemm_batched(i64, i64, i64, i64, i64, i64, i64,
    i64, i64, i64, i64, i64, i64, i64, i64, f32)

func.func @gemm(%a: memref<?xf32>, %b: memref<?xf32>, %c: memref<?xf32>,
                %batch: i64, %m: i64, %n: i64, %k: i64,
                %lda: i64, %sa: i64, %ta: i64,
                %ldb: i64, %sb: i64, %tb: i64,
                %ldc: i64, %sc: i64, %beta: f32)
    attributes {llvm.emit_c_interface} {
  %pa = memref.extract_aligned_pointer_as_index %a : memref<?xf32> -> index
  %pb = memref.extract_aligned_pointer_as_index %b : memref<?xf32> -> index
  %pc = memref.extract_aligned_pointer_as_index %c : memref<?xf32> -> index
  %ia = arith.index_cast %pa : index to i64
  %ib = arith.index_cast %pb : index to i64
  %ic = arith.index_cast %pc : index to i64
  func.call @uoe_sgemm_batched(%batch, %m, %n, %k, %ia, %lda, %sa, %ta,
      %ib, %ldb, %sb, %tb, %ic, %ldc, %sc, %beta)
      : (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64,
         i64, f32) -> ()
  return
}
)mlir";

// Tests compiled code calling the runtime's GEMM (bound by the loader from
// cpuRuntimeSymbols) with scalar arguments passed through the packed entry
// point: odd sizes, padded leading dimensions and batch strides, every
// combination of transpositions, beta 0 (C starts as NaN) and 1.
TEST_F(CpuKernelTest, CompiledCodeCallsTheRuntimeGemm) {
  auto object = compileAndLoad(kGemm);
  ASSERT_TRUE(object);
  PackedFn fn = packed(*object, "gemm");
  ASSERT_TRUE(fn);

  const int64_t batch = 3, m = 37, n = 48, k = 13;
  unsigned seed = 20;
  for (int64_t transA : {0, 1}) {
    for (int64_t transB : {0, 1}) {
      for (float beta : {0.0f, 1.0f}) {
        SCOPED_TRACE(::testing::Message() << "transA " << transA << " transB "
                                          << transB << " beta " << beta);
        // Stored shapes, with 3 extra columns and 5 extra elements between
        // matrices.
        int64_t rowsA = transA ? k : m, colsA = transA ? m : k;
        int64_t rowsB = transB ? n : k, colsB = transB ? k : n;
        int64_t lda = colsA + 3, ldb = colsB + 3, ldc = n + 3;
        int64_t strideA = rowsA * lda + 5, strideB = rowsB * ldb + 5,
                strideC = m * ldc + 5;
        std::vector<float> a = randomFloats(batch * strideA, ++seed);
        std::vector<float> b = randomFloats(batch * strideB, ++seed);
        std::vector<float> c = randomFloats(batch * strideC, ++seed);
        std::vector<float> expected = c;
        if (beta == 0.0f)
          for (int64_t i = 0; i < batch; ++i)
            for (int64_t r = 0; r < m; ++r)
              for (int64_t j = 0; j < n; ++j)
                c[i * strideC + r * ldc + j] =
                    std::numeric_limits<float>::quiet_NaN();
        for (int64_t i = 0; i < batch; ++i)
          referenceGemm(m, n, k, a.data() + i * strideA, lda, transA,
                        b.data() + i * strideB, ldb, transB,
                        expected.data() + i * strideC, ldc, beta);

        auto da = MemRefDescriptor::rowMajor(a.data(), {int64_t(a.size())});
        auto db = MemRefDescriptor::rowMajor(b.data(), {int64_t(b.size())});
        auto dc = MemRefDescriptor::rowMajor(c.data(), {int64_t(c.size())});
        int64_t scalars[] = {batch,  m,   n,       k,      lda, strideA,
                             transA, ldb, strideB, transB, ldc, strideC};
        float betaArg = beta;
        PackedArguments args;
        args.addMemRef(da);
        args.addMemRef(db);
        args.addMemRef(dc);
        for (int64_t &s : scalars)
          args.addScalar(&s);
        args.addScalar(&betaArg);
        fn(args.data());
        EXPECT_TRUE(::uoe::rt::takeCpuBlasError().ok());

        for (size_t i = 0; i < c.size(); ++i) {
          // The padding between rows and matrices must be untouched.
          if (std::isnan(c[i]) || std::isnan(expected[i])) {
            ADD_FAILURE() << "NaN at " << i;
            break;
          }
          EXPECT_NEAR(c[i], expected[i], 1e-4) << "element " << i;
        }
      }
    }
  }
}

} // namespace
