/**
 * MAE, RMSE and R² of one regression output, over its labelled examples.
 *
 * @example
 * ```ts
 * const { mae, rmse, r2, labelled }: RegressionMetrics = regressionMetrics([2, 3], [2, 5]);
 * ```
 */
export interface RegressionMetrics {
  mae: number;
  rmse: number;
  /**
   * Coefficient of determination, 1 - SS_res / SS_tot. With constant targets (SS_tot = 0) it
   * is 1 for a perfect fit and 0 otherwise, as scikit-learn's `force_finite`.
   */
  r2: number;
  labelled: number;
}

/**
 * MAE, RMSE and R^2 over paired predictions and targets; NaN everywhere when empty.
 *
 * @example
 * ```ts
 * regressionMetrics([2, 3, 4], [2, 3, 6]); // { mae: 0.667, rmse: 1.155, r2: ..., labelled: 3 }
 * ```
 */
export function regressionMetrics(
  predicted: ArrayLike<number>,
  actual: ArrayLike<number>,
): RegressionMetrics {
  const n = predicted.length;
  if (n === 0) return { mae: Number.NaN, rmse: Number.NaN, r2: Number.NaN, labelled: 0 };
  let absolute = 0;
  let squared = 0;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += actual[i] as number;
  mean /= n;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const e = (predicted[i] as number) - (actual[i] as number);
    absolute += Math.abs(e);
    squared += e * e;
    total += ((actual[i] as number) - mean) ** 2;
  }
  const r2 = total > 0 ? 1 - squared / total : squared === 0 ? 1 : 0;
  return { mae: absolute / n, rmse: Math.sqrt(squared / n), r2, labelled: n };
}
