func.func @f32(%a: memref<4x64x32xf32>, %b: memref<4x32x16xf32>, %c: memref<4x64x16xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<4x64x32xf32>, memref<4x32x16xf32>) outs(%c : memref<4x64x16xf32>)
  return
}
func.func @not_applied(%a: memref<2x3x4xf64>, %b: memref<2x4x5xf64>, %c: memref<2x3x5xf64>, %ta: tensor<2x3x4xf32>, %tb: tensor<2x4x5xf32>, %tc: tensor<2x3x5xf32>) -> tensor<2x3x5xf32> {
  linalg.batch_matmul ins(%a, %b : memref<2x3x4xf64>, memref<2x4x5xf64>) outs(%c : memref<2x3x5xf64>)
  %r = linalg.batch_matmul ins(%ta, %tb : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%tc : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  return %r : tensor<2x3x5xf32>
}
func.func @zero_filled(%a: memref<4x64x32xf32>, %b: memref<4x32x16xf32>) -> memref<4x64x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc() : memref<4x64x16xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<4x64x16xf32>)
  %other = memref.alloc() : memref<8xf32>
  linalg.batch_matmul ins(%a, %b : memref<4x64x32xf32>, memref<4x32x16xf32>) outs(%c : memref<4x64x16xf32>)
  return %c : memref<4x64x16xf32>
}
func.func @not_folded(%a: memref<4x64x32xf32>, %b: memref<4x32x16xf32>, %c: memref<4x64x16xf32>, %d: memref<4x64x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<4x64x16xf32>)
  memref.copy %c, %d : memref<4x64x16xf32> to memref<4x64x16xf32>
  linalg.batch_matmul ins(%a, %b : memref<4x64x32xf32>, memref<4x32x16xf32>) outs(%c : memref<4x64x16xf32>)
  linalg.fill ins(%one : f32) outs(%d : memref<4x64x16xf32>)
  linalg.batch_matmul ins(%a, %b : memref<4x64x32xf32>, memref<4x32x16xf32>) outs(%d : memref<4x64x16xf32>)
  return
}
