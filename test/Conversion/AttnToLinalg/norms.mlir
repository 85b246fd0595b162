// attn.layer_norm and attn.rms_norm normalize every row of x [N, E] over its
// E features. Row statistics are reductions over the columns into [N]
// tensors (zero-filled accumulators); the last step is one elementwise
// linalg.generic over [N, E] reading the statistics by row and the [E]
// parameters by column. N = 6 and E = 10 tell the shapes apart.
//
//   layer_norm: s[n]    = x[n, 0]     (sums over deviations from it keep the
//                                      mean of features far from 0)
//               d[n]    = (sum_c x - s) / E                (mean - s)
//               var[n]  = (sum_c ((x - s) - d)^2) / E      (biased, two passes)
//               inv[n]  = rsqrt(var + eps)
//               y       = ((x - s) - d) * inv * gamma + beta
//   rms_norm:   inv[n]  = rsqrt((sum_c x^2) / E + eps)
//               y       = x * inv * gamma

// RUN: attn-opt %s --convert-attn-to-linalg | FileCheck %s

// CHECK-DAG: #[[$ALL:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$ROW:.+]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[$COL:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[$VEC:.+]] = affine_map<(d0) -> (d0)>

// CHECK-LABEL: func.func @layer_norm(
// CHECK-SAME:    %[[X:[a-zA-Z0-9_]+]]: tensor<6x10xf32>,
// CHECK-SAME:    %[[G:[a-zA-Z0-9_]+]]: tensor<10xf32>,
// CHECK-SAME:    %[[B:[a-zA-Z0-9_]+]]: tensor<10xf32>)
func.func @layer_norm(%x: tensor<6x10xf32>, %g: tensor<10xf32>,
                      %b: tensor<10xf32>) -> tensor<6x10xf32> {
  // s[n] = x[n, 0]
  // CHECK:      %[[SHIFT:.+]] = tensor.extract_slice %[[X]][0, 0] [6, 1] [1, 1] : tensor<6x10xf32> to tensor<6xf32>

  // sum[n] = sum_c (x[n, c] - s[n]); the column dimension is the reduction.
  // CHECK:      %[[SUM_INIT:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<6xf32>)
  // CHECK-NEXT: %[[SUM:.+]] = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ALL]], #[[$ROW]], #[[$ROW]]]
  // CHECK-SAME:   iterator_types = ["parallel", "reduction"]
  // CHECK-SAME:   ins(%[[X]], %[[SHIFT]] : tensor<6x10xf32>, tensor<6xf32>) outs(%[[SUM_INIT]] : tensor<6xf32>)
  // CHECK-NEXT: ^bb0(%[[XV:.+]]: f32, %[[SV:.+]]: f32, %[[ACC:.+]]: f32):
  // CHECK-NEXT:   %[[XS:.+]] = arith.subf %[[XV]], %[[SV]] : f32
  // CHECK-NEXT:   %[[S:.+]] = arith.addf %[[XS]], %[[ACC]] : f32
  // CHECK-NEXT:   linalg.yield %[[S]] : f32

  // d[n] = sum[n] / E
  // CHECK:      %[[D:.+]] = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$VEC]], #[[$VEC]]]
  // CHECK-SAME:   ins(%[[SUM]] : tensor<6xf32>)
  // CHECK-NEXT: ^bb0(%[[SUMV:.+]]: f32, %{{.+}}: f32):
  // CHECK-NEXT:   %[[E:.+]] = arith.constant 1.000000e+01 : f32
  // CHECK-NEXT:   %[[M:.+]] = arith.divf %[[SUMV]], %[[E]] : f32
  // CHECK-NEXT:   linalg.yield %[[M]] : f32

  // sqDev[n] = sum_c ((x[n, c] - s[n]) - d[n])^2, a second pass over the row.
  // CHECK:      %[[SQ:.+]] = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ALL]], #[[$ROW]], #[[$ROW]], #[[$ROW]]]
  // CHECK-SAME:   iterator_types = ["parallel", "reduction"]
  // CHECK-SAME:   ins(%[[X]], %[[SHIFT]], %[[D]] : tensor<6x10xf32>, tensor<6xf32>, tensor<6xf32>)
  // CHECK-NEXT: ^bb0(%[[XV:.+]]: f32, %[[SV:.+]]: f32, %[[DV:.+]]: f32, %[[ACC:.+]]: f32):
  // CHECK-NEXT:   %[[XS:.+]] = arith.subf %[[XV]], %[[SV]] : f32
  // CHECK-NEXT:   %[[DEV:.+]] = arith.subf %[[XS]], %[[DV]] : f32
  // CHECK-NEXT:   %[[DEV2:.+]] = arith.mulf %[[DEV]], %[[DEV]] : f32
  // CHECK-NEXT:   %[[S:.+]] = arith.addf %[[DEV2]], %[[ACC]] : f32
  // CHECK-NEXT:   linalg.yield %[[S]] : f32

  // inv[n] = rsqrt(sqDev / E + eps): the biased variance (divide by E).
  // CHECK:      %[[INV:.+]] = linalg.generic
  // CHECK-SAME:   ins(%[[SQ]] : tensor<6xf32>)
  // CHECK-NEXT: ^bb0(%[[QV:.+]]: f32, %{{.+}}: f32):
  // CHECK-NEXT:   %[[E:.+]] = arith.constant 1.000000e+01 : f32
  // CHECK-NEXT:   %[[VAR:.+]] = arith.divf %[[QV]], %[[E]] : f32
  // CHECK-NEXT:   %[[EPS:.+]] = arith.constant 9.99999974E-6 : f32
  // CHECK-NEXT:   %[[VE:.+]] = arith.addf %[[VAR]], %[[EPS]] : f32
  // CHECK-NEXT:   %[[R:.+]] = math.rsqrt %[[VE]] : f32
  // CHECK-NEXT:   linalg.yield %[[R]] : f32

  // y[n, c] = ((x - s[n]) - d[n]) * inv[n] * gamma[c] + beta[c]
  // CHECK:      %[[Y:.+]] = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ALL]], #[[$ROW]], #[[$ROW]], #[[$ROW]], #[[$COL]], #[[$COL]], #[[$ALL]]]
  // CHECK-SAME:   iterator_types = ["parallel", "parallel"]
  // CHECK-SAME:   ins(%[[X]], %[[SHIFT]], %[[D]], %[[INV]], %[[G]], %[[B]] :
  // CHECK-NEXT: ^bb0(%[[XV:.+]]: f32, %[[SV:.+]]: f32, %[[DV:.+]]: f32, %[[IV:.+]]: f32, %[[GV:.+]]: f32, %[[BV:.+]]: f32, %{{.+}}: f32):
  // CHECK-NEXT:   %[[XS:.+]] = arith.subf %[[XV]], %[[SV]] : f32
  // CHECK-NEXT:   %[[C:.+]] = arith.subf %[[XS]], %[[DV]] : f32
  // CHECK-NEXT:   %[[N:.+]] = arith.mulf %[[C]], %[[IV]] : f32
  // CHECK-NEXT:   %[[NG:.+]] = arith.mulf %[[N]], %[[GV]] : f32
  // CHECK-NEXT:   %[[YV:.+]] = arith.addf %[[NG]], %[[BV]] : f32
  // CHECK-NEXT:   linalg.yield %[[YV]] : f32
  // CHECK-NEXT: } -> tensor<6x10xf32>
  // CHECK-NEXT: return %[[Y]] : tensor<6x10xf32>
  %y = attn.layer_norm %x, %g, %b eps = 1.0e-5
      : (tensor<6x10xf32>, tensor<10xf32>, tensor<10xf32>) -> tensor<6x10xf32>
  return %y : tensor<6x10xf32>
}

// CHECK-LABEL: func.func @rms_norm(
// CHECK-SAME:    %[[X:[a-zA-Z0-9_]+]]: tensor<6x10xf32>,
// CHECK-SAME:    %[[G:[a-zA-Z0-9_]+]]: tensor<10xf32>)
func.func @rms_norm(%x: tensor<6x10xf32>, %g: tensor<10xf32>) -> tensor<6x10xf32> {
  // No mean is subtracted: one reduction of squares.
  // CHECK-NOT:  arith.subf
  // sumSq[n] = sum_c x[n, c]^2
  // CHECK:      %[[SQ:.+]] = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ALL]], #[[$ROW]]]
  // CHECK-SAME:   iterator_types = ["parallel", "reduction"]
  // CHECK-SAME:   ins(%[[X]] : tensor<6x10xf32>)
  // CHECK-NEXT: ^bb0(%[[XV:.+]]: f32, %[[ACC:.+]]: f32):
  // CHECK-NEXT:   %[[X2:.+]] = arith.mulf %[[XV]], %[[XV]] : f32
  // CHECK-NEXT:   %[[S:.+]] = arith.addf %[[X2]], %[[ACC]] : f32
  // CHECK-NEXT:   linalg.yield %[[S]] : f32

  // inv[n] = rsqrt(sumSq / E + eps)
  // CHECK:      %[[INV:.+]] = linalg.generic
  // CHECK-SAME:   ins(%[[SQ]] : tensor<6xf32>)
  // CHECK-NEXT: ^bb0(%[[QV:.+]]: f32, %{{.+}}: f32):
  // CHECK-NEXT:   %[[E:.+]] = arith.constant 1.000000e+01 : f32
  // CHECK-NEXT:   %[[MS:.+]] = arith.divf %[[QV]], %[[E]] : f32
  // CHECK-NEXT:   %[[EPS:.+]] = arith.constant 9.99999997E-7 : f32
  // CHECK-NEXT:   %[[ME:.+]] = arith.addf %[[MS]], %[[EPS]] : f32
  // CHECK-NEXT:   %[[R:.+]] = math.rsqrt %[[ME]] : f32
  // CHECK-NEXT:   linalg.yield %[[R]] : f32

  // y[n, c] = x * inv[n] * gamma[c]
  // CHECK:      %[[Y:.+]] = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ALL]], #[[$ROW]], #[[$COL]], #[[$ALL]]]
  // CHECK-SAME:   ins(%[[X]], %[[INV]], %[[G]] : tensor<6x10xf32>, tensor<6xf32>, tensor<10xf32>)
  // CHECK-NEXT: ^bb0(%[[XV:.+]]: f32, %[[IV:.+]]: f32, %[[GV:.+]]: f32, %{{.+}}: f32):
  // CHECK-NEXT:   %[[N:.+]] = arith.mulf %[[XV]], %[[IV]] : f32
  // CHECK-NEXT:   %[[YV:.+]] = arith.mulf %[[N]], %[[GV]] : f32
  // CHECK-NEXT:   linalg.yield %[[YV]] : f32
  // CHECK-NEXT: } -> tensor<6x10xf32>
  // CHECK-NEXT: return %[[Y]] : tensor<6x10xf32>
  %y = attn.rms_norm %x, %g eps = 1.0e-6
      : (tensor<6x10xf32>, tensor<10xf32>) -> tensor<6x10xf32>
  return %y : tensor<6x10xf32>
}
