//! The little linear algebra semantic codes need: a sparse row matrix, a
//! seeded randomized truncated SVD (Halko, Martinsson and Tropp 2011, with
//! subspace iteration) and a Jacobi eigensolver for its small dense core.
//!
//! Every product is computed row by row with a fixed order of summation,
//! so results are identical whatever the number of threads.

use rand::Rng;
use rayon::prelude::*;

use crate::ids::seeded_rng;

/// A sparse matrix in compressed sparse row form.
#[derive(Debug, Clone, PartialEq)]
pub struct Csr {
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f32>,
}

impl Csr {
    /// Builds a matrix from each row's `(column, value)` entries; entries of
    /// one row must name distinct columns below `cols`.
    pub fn from_rows(cols: usize, rows: Vec<Vec<(u32, f32)>>) -> Self {
        let mut indptr = Vec::with_capacity(rows.len() + 1);
        indptr.push(0);
        let mut indices = Vec::new();
        let mut values = Vec::new();
        for mut row in rows {
            row.sort_unstable_by_key(|&(c, _)| c);
            for (c, v) in row {
                debug_assert!((c as usize) < cols);
                indices.push(c);
                values.push(v);
            }
            indptr.push(indices.len());
        }
        Csr {
            rows: indptr.len() - 1,
            cols,
            indptr,
            indices,
            values,
        }
    }

    /// Row `r`'s entries.
    pub fn row(&self, r: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        let span = self.indptr[r]..self.indptr[r + 1];
        self.indices[span.clone()]
            .iter()
            .zip(&self.values[span])
            .map(|(&c, &v)| (c as usize, v))
    }

    /// Whether row `r` has no entry.
    pub fn row_is_empty(&self, r: usize) -> bool {
        self.indptr[r] == self.indptr[r + 1]
    }

    /// The transpose.
    pub fn transpose(&self) -> Csr {
        let mut rows: Vec<Vec<(u32, f32)>> = vec![Vec::new(); self.cols];
        for r in 0..self.rows {
            for (c, v) in self.row(r) {
                rows[c].push((r as u32, v));
            }
        }
        Csr::from_rows(self.rows, rows)
    }

    /// `self · dense`, where `dense` is `cols × k`, row-major.
    fn times(&self, dense: &[f64], k: usize) -> Vec<f64> {
        let mut out = vec![0.0; self.rows * k];
        out.par_chunks_mut(k.max(1))
            .enumerate()
            .for_each(|(r, out_row)| {
                for (c, v) in self.row(r) {
                    let v = f64::from(v);
                    for (o, d) in out_row.iter_mut().zip(&dense[c * k..(c + 1) * k]) {
                        *o += v * d;
                    }
                }
            });
        out
    }
}

/// The `d`-dimensional embedding of each row of `x`: its coordinates on the
/// top `d` left singular vectors scaled by the singular values (`U·Σ`),
/// `rows × d` row-major. `d` is capped by the matrix's size; the result's
/// width is returned beside it.
pub fn truncated_svd(x: &Csr, d: usize, seed: u64) -> (Vec<f32>, usize) {
    let d = d.min(x.rows).min(x.cols);
    if d == 0 {
        return (Vec::new(), 0);
    }
    let k = (d + 10).min(x.rows).min(x.cols);
    let xt = x.transpose();
    let mut rng = seeded_rng(seed, "codes/svd");
    let omega: Vec<f64> = (0..x.cols * k)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let mut q = x.times(&omega, k);
    orthonormalise(&mut q, k);
    for _ in 0..4 {
        let mut z = xt.times(&q, k);
        orthonormalise(&mut z, k);
        q = x.times(&z, k);
        orthonormalise(&mut q, k);
    }
    // B = Qᵀ X is k × cols; B Bᵀ = Zᵀ Z with Z = Xᵀ Q.
    let z = xt.times(&q, k);
    let mut gram = vec![0.0; k * k];
    for row in z.chunks(k) {
        for i in 0..k {
            for j in 0..k {
                gram[i * k + j] += row[i] * row[j];
            }
        }
    }
    let (values, vectors) = symmetric_eigen(&gram, k);
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    let mut out = vec![0.0f32; x.rows * d];
    for (r, q_row) in q.chunks(k).enumerate() {
        for (j, &e) in order.iter().take(d).enumerate() {
            let sigma = values[e].max(0.0).sqrt();
            let u: f64 = (0..k).map(|i| q_row[i] * vectors[i * k + e]).sum();
            out[r * d + j] = (u * sigma) as f32;
        }
    }
    (out, d)
}

/// Modified Gram–Schmidt on the `k` columns of the row-major `m`; a column
/// that is (numerically) dependent on the earlier ones becomes zero.
fn orthonormalise(m: &mut [f64], k: usize) {
    let rows = m.len() / k.max(1);
    for j in 0..k {
        for i in 0..j {
            let dot: f64 = (0..rows).map(|r| m[r * k + i] * m[r * k + j]).sum();
            for r in 0..rows {
                m[r * k + j] -= dot * m[r * k + i];
            }
        }
        let norm = (0..rows).map(|r| m[r * k + j].powi(2)).sum::<f64>().sqrt();
        let scale = if norm > 1e-10 { 1.0 / norm } else { 0.0 };
        for r in 0..rows {
            m[r * k + j] *= scale;
        }
    }
}

/// Eigenvalues and eigenvectors (as columns of a row-major `n × n` matrix)
/// of the symmetric `n × n` matrix `a`, by cyclic Jacobi rotations.
pub fn symmetric_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = a.to_vec();
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    let scale: f64 = a
        .iter()
        .map(|x| x * x)
        .sum::<f64>()
        .sqrt()
        .max(f64::MIN_POSITIVE);
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * n + j].powi(2))
            .sum::<f64>()
            .sqrt();
        if off <= 1e-14 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq.abs() <= 1e-300 {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for r in 0..n {
                    let (arp, arq) = (a[r * n + p], a[r * n + q]);
                    a[r * n + p] = c * arp - s * arq;
                    a[r * n + q] = s * arp + c * arq;
                }
                for r in 0..n {
                    let (apr, aqr) = (a[p * n + r], a[q * n + r]);
                    a[p * n + r] = c * apr - s * aqr;
                    a[q * n + r] = s * apr + c * aqr;
                }
                for r in 0..n {
                    let (vrp, vrq) = (v[r * n + p], v[r * n + q]);
                    v[r * n + p] = c * vrp - s * vrq;
                    v[r * n + q] = s * vrp + c * vrq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobi_finds_known_eigenvalues() {
        // [[2, 1], [1, 2]] has eigenvalues 1 and 3.
        let (values, vectors) = symmetric_eigen(&[2.0, 1.0, 1.0, 2.0], 2);
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        assert!((sorted[0] - 1.0).abs() < 1e-12 && (sorted[1] - 3.0).abs() < 1e-12);
        // A v = λ v for each column.
        for e in 0..2 {
            let (x, y) = (vectors[e], vectors[2 + e]);
            assert!((2.0 * x + y - values[e] * x).abs() < 1e-12);
            assert!((x + 2.0 * y - values[e] * y).abs() < 1e-12);
        }
    }

    #[test]
    fn svd_recovers_a_rank_two_matrix() {
        // Rows are combinations of two orthogonal patterns with weights
        // 3 and 1: the first coordinate carries the larger singular value,
        // and row distances are preserved.
        let a = [1.0f32, 1.0, 0.0, 0.0];
        let b = [0.0f32, 0.0, 1.0, -1.0];
        let rows: Vec<Vec<(u32, f32)>> = (0..6)
            .map(|r| {
                let (wa, wb) = (3.0 * (r as f32 - 2.5), (r % 2) as f32);
                (0..4)
                    .map(|c| (c as u32, wa * a[c] + wb * b[c]))
                    .filter(|&(_, v)| v != 0.0)
                    .collect()
            })
            .collect();
        let x = Csr::from_rows(4, rows.clone());
        let (emb, d) = truncated_svd(&x, 2, 1);
        assert_eq!(d, 2);
        let dense = |r: usize| {
            let mut v = [0.0f32; 4];
            for &(c, x) in &rows[r] {
                v[c as usize] = x;
            }
            v
        };
        for i in 0..6 {
            for j in 0..6 {
                let full: f32 = (0..4).map(|c| (dense(i)[c] - dense(j)[c]).powi(2)).sum();
                let low: f32 = (0..2)
                    .map(|c| (emb[i * 2 + c] - emb[j * 2 + c]).powi(2))
                    .sum();
                assert!((full - low).abs() < 1e-3, "{i} {j}: {full} vs {low}");
            }
        }
        let energy = |c: usize| (0..6).map(|r| emb[r * 2 + c].powi(2)).sum::<f32>();
        assert!(energy(0) > energy(1));
    }
}
