//! Residual k-means (RQ-KMeans): level 1 clusters the item vectors, each
//! later level clusters what the earlier centroids left unexplained, so a
//! code prefix names a region and every further code refines it.
//!
//! Seeded k-means++ initialisation, then Lloyd iterations. With `balanced`,
//! each assignment step gives every cluster at most ⌈n/k⌉ items, taking
//! (item, cluster) pairs in order of distance, so codes are used evenly.
//! Assignments are computed per item with ties to the lowest cluster, and
//! centroids are summed in item order: the result does not depend on the
//! number of threads.

use rand::Rng;
use rayon::prelude::*;

use crate::ids::seeded_rng;

/// Lloyd iterations per level, at most (it stops earlier when no item
/// changes cluster).
const MAX_ITERATIONS: usize = 30;

/// One level's clustering of `n` vectors of width `d` (row-major `points`):
/// each point's cluster and the `k × d` centroids.
pub fn kmeans(
    points: &[f32],
    d: usize,
    k: usize,
    balanced: bool,
    seed: u64,
    stream: &str,
) -> (Vec<u32>, Vec<f32>) {
    let n = points.len() / d;
    let point = |i: usize| &points[i * d..(i + 1) * d];
    let mut centroids = plus_plus(points, d, k, seed, stream);
    let mut assignment = vec![u32::MAX; n];
    for _ in 0..MAX_ITERATIONS {
        let next = if balanced {
            assign_balanced(points, d, &centroids, k)
        } else {
            assign_nearest(points, d, &centroids, k)
        };
        let changed = next != assignment;
        assignment = next;
        if !changed {
            break;
        }
        let mut sums = vec![0.0f64; k * d];
        let mut counts = vec![0usize; k];
        for (i, &c) in assignment.iter().enumerate() {
            counts[c as usize] += 1;
            for (s, &x) in sums[c as usize * d..(c as usize + 1) * d]
                .iter_mut()
                .zip(point(i))
            {
                *s += f64::from(x);
            }
        }
        for c in 0..k {
            if counts[c] == 0 {
                // An empty cluster takes the point farthest from its centroid.
                let far = (0..n)
                    .map(|i| {
                        (
                            distance(point(i), centroid(&centroids, d, assignment[i])),
                            i,
                        )
                    })
                    .fold(
                        (-1.0f32, 0usize),
                        |best, x| if x.0 > best.0 { x } else { best },
                    )
                    .1;
                centroids[c * d..(c + 1) * d].copy_from_slice(point(far));
                continue;
            }
            for (m, s) in centroids[c * d..(c + 1) * d]
                .iter_mut()
                .zip(&sums[c * d..(c + 1) * d])
            {
                *m = (*s / counts[c] as f64) as f32;
            }
        }
    }
    (assignment, centroids)
}

fn centroid(centroids: &[f32], d: usize, c: u32) -> &[f32] {
    &centroids[c as usize * d..(c as usize + 1) * d]
}

fn distance(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// k-means++: the first centroid a seeded random point, each next one a
/// point drawn with probability proportional to its squared distance to
/// the nearest centroid so far.
fn plus_plus(points: &[f32], d: usize, k: usize, seed: u64, stream: &str) -> Vec<f32> {
    let n = points.len() / d;
    let mut rng = seeded_rng(seed, stream);
    let mut centroids = Vec::with_capacity(k * d);
    let first = rng.random_range(0..n);
    centroids.extend_from_slice(&points[first * d..(first + 1) * d]);
    let mut nearest: Vec<f32> = (0..n)
        .map(|i| distance(&points[i * d..(i + 1) * d], &centroids[..d]))
        .collect();
    for c in 1..k {
        let total: f64 = nearest.iter().map(|&x| f64::from(x)).sum();
        let chosen = if total > 0.0 {
            let mut target = rng.random_range(0.0..total);
            let mut chosen = n - 1;
            for (i, &x) in nearest.iter().enumerate() {
                target -= f64::from(x);
                if target < 0.0 {
                    chosen = i;
                    break;
                }
            }
            chosen
        } else {
            // Fewer distinct points than clusters: repeat one.
            rng.random_range(0..n)
        };
        centroids.extend_from_slice(&points[chosen * d..(chosen + 1) * d]);
        let new = &centroids[c * d..(c + 1) * d];
        nearest
            .par_iter_mut()
            .enumerate()
            .for_each(|(i, x)| *x = x.min(distance(&points[i * d..(i + 1) * d], new)));
    }
    centroids
}

fn assign_nearest(points: &[f32], d: usize, centroids: &[f32], k: usize) -> Vec<u32> {
    points
        .par_chunks(d)
        .map(|p| {
            let mut best = (f32::INFINITY, 0u32);
            for c in 0..k {
                let dist = distance(p, &centroids[c * d..(c + 1) * d]);
                if dist < best.0 {
                    best = (dist, c as u32);
                }
            }
            best.1
        })
        .collect()
}

/// Nearest cluster with room: pairs in order of (distance, item, cluster),
/// each cluster holding at most ⌈n/k⌉ items.
fn assign_balanced(points: &[f32], d: usize, centroids: &[f32], k: usize) -> Vec<u32> {
    let n = points.len() / d;
    let capacity = n.div_ceil(k);
    let mut pairs: Vec<(f32, u32, u32)> = points
        .par_chunks(d)
        .enumerate()
        .flat_map_iter(|(i, p)| {
            (0..k).map(move |c| {
                (
                    distance(p, &centroids[c * d..(c + 1) * d]),
                    i as u32,
                    c as u32,
                )
            })
        })
        .collect();
    pairs.par_sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut assignment = vec![u32::MAX; n];
    let mut load = vec![0usize; k];
    let mut left = n;
    for (_, i, c) in pairs {
        if left == 0 {
            break;
        }
        if assignment[i as usize] == u32::MAX && load[c as usize] < capacity {
            assignment[i as usize] = c;
            load[c as usize] += 1;
            left -= 1;
        }
    }
    assignment
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three tight, well separated groups of points on a line.
    fn groups() -> Vec<f32> {
        [0.0f32, 0.1, 0.2, 10.0, 10.1, 10.2, 20.0, 20.1, 20.2]
            .iter()
            .flat_map(|&x| [x, 0.0])
            .collect()
    }

    #[test]
    fn kmeans_separates_clear_groups() {
        let (assignment, _) = kmeans(&groups(), 2, 3, false, 1, "test");
        for g in 0..3 {
            let group = &assignment[g * 3..g * 3 + 3];
            assert!(group.iter().all(|&c| c == group[0]), "{assignment:?}");
        }
        assert_ne!(assignment[0], assignment[3]);
        assert_ne!(assignment[3], assignment[6]);
        assert_ne!(assignment[0], assignment[6]);
    }

    #[test]
    fn balanced_assignment_caps_every_cluster() {
        // Two clusters over nine points: at most five each, though one
        // natural group holds six.
        let (assignment, _) = kmeans(&groups(), 2, 2, true, 1, "test");
        for c in 0..2 {
            let size = assignment.iter().filter(|&&a| a == c).count();
            assert!(size <= 5, "{assignment:?}");
        }
    }

    #[test]
    fn kmeans_is_seeded() {
        let points: Vec<f32> = (0..200).map(|i| ((i * 37) % 101) as f32 / 7.0).collect();
        let a = kmeans(&points, 2, 8, false, 3, "test");
        let b = kmeans(&points, 2, 8, false, 3, "test");
        assert_eq!(a, b);
    }
}
