//! Masked language modeling over the history's title words, T5-style: runs
//! of words are replaced by `<extra_id_N>` → the runs, each after its
//! sentinel, with a closing sentinel (`<extra_id_0> Oil-Free <extra_id_1>
//! Moisturizing <extra_id_2>`).
//!
//! Spans are placed as T5's `random_spans_noise_mask` does over the flat
//! list of title words (`noise_density` of the words, `mean_span` long on
//! average, never all of them); a span that crosses from one title into the
//! next becomes two. Only title words are masked: identifiers and the
//! `ID: …, title:` scaffolding stay, so the model recovers words from the
//! items around them (the paper's "fine-grained item correlations").

use rand::Rng;

use crate::config::Style;
use crate::render::{SENTINELS, sentinel, separator};
use crate::templates::Slot;
use crate::{Sample, Task, UserContext};

/// One sample, or `None` when the window's titles have fewer than two words.
pub(super) fn sample<'d>(ctx: &mut UserContext<'_, 'd>) -> Option<Sample<'d>> {
    let template = ctx.template(Task::MaskedLanguageModeling);
    let texts = ctx.texts();
    let style = Style::Informative;
    let mut window = ctx.window(ctx.train(), template.input.literal_len(), |e| {
        texts.full(e.item, style).len()
    });
    // A sentinel can be longer than the words it hides: when the masked
    // input overflows the budget, drop the oldest item and draw again.
    let (input, runs) = loop {
        let (history, runs) = mask_titles(ctx, window)?;
        let mut input = String::with_capacity(template.input.literal_len() + history.len());
        template.input.render(&mut input, |slot, out| {
            if slot == Slot::History {
                out.push_str(&history);
            }
        });
        let budget = ctx.config().max_input_chars;
        if budget > 0 && input.len() > budget && window.len() > 1 {
            window = &window[1..];
            continue;
        }
        break (input, runs);
    };
    let mut answer = String::new();
    template.target.render(&mut answer, |_, out| {
        for (k, run) in runs.iter().enumerate() {
            sentinel(out, k);
            for word in run {
                out.push(' ');
                out.push_str(word);
            }
            out.push(' ');
        }
        sentinel(out, runs.len());
    });
    Some(ctx.sample(template, input, answer, Vec::new()))
}

/// The window's history with title-word spans masked, and the masked runs;
/// `None` when the titles have fewer than two words.
fn mask_titles<'g>(
    ctx: &mut UserContext<'g, '_>,
    window: &[recalign_data::Event],
) -> Option<(String, Vec<Vec<&'g str>>)> {
    let texts = ctx.texts();
    let style = Style::Informative;
    let titles: Vec<Vec<&str>> = window
        .iter()
        .map(|e| {
            texts
                .title(e.item)
                .map(|t| t.split(' ').collect())
                .unwrap_or_default()
        })
        .collect();
    let words: usize = titles.iter().map(Vec::len).sum();
    if words < 2 {
        return None;
    }
    let config = &ctx.config().mlm;
    let noise = ((words as f64 * config.noise_density).round() as usize).clamp(1, words - 1);
    let max_spans = (SENTINELS - 1).saturating_sub(window.len()).max(1);
    let spans = ((noise as f64 / config.mean_span).round() as usize)
        .clamp(1, noise.min(words - noise).min(max_spans));
    let mask = noise_mask(&mut ctx.rng, words, noise, spans);

    let mut runs: Vec<Vec<&str>> = Vec::new();
    let mut history = String::with_capacity(window.len() * 64);
    let mut flat = 0;
    for (k, (e, title)) in window.iter().zip(&titles).enumerate() {
        if k > 0 {
            history.push_str(separator(style));
        }
        if title.is_empty() {
            history.push_str(texts.full(e.item, style));
            continue;
        }
        history.push_str(texts.bare(e.item, style));
        history.push_str(", title:");
        let mut open = false;
        for word in title {
            if mask[flat] {
                if !open {
                    history.push(' ');
                    sentinel(&mut history, runs.len());
                    runs.push(Vec::new());
                    open = true;
                }
                if let Some(run) = runs.last_mut() {
                    run.push(word);
                }
            } else {
                history.push(' ');
                history.push_str(word);
                open = false;
            }
            flat += 1;
        }
    }
    Some((history, runs))
}

/// T5's `random_spans_noise_mask`: `noise` of `length` positions masked in
/// `spans` runs, runs and gaps of random lengths, starting with a gap.
fn noise_mask(rng: &mut impl Rng, length: usize, noise: usize, spans: usize) -> Vec<bool> {
    let noise_runs = span_lengths(rng, noise, spans);
    let gaps = span_lengths(rng, length - noise, spans);
    let mut mask = Vec::with_capacity(length);
    for (gap, run) in gaps.iter().zip(&noise_runs) {
        mask.extend(std::iter::repeat_n(false, *gap));
        mask.extend(std::iter::repeat_n(true, *run));
    }
    mask
}

/// A random split of `total` into `parts` positive lengths (T5's
/// `_random_segmentation`).
fn span_lengths(rng: &mut impl Rng, total: usize, parts: usize) -> Vec<usize> {
    let parts = parts.clamp(1, total.max(1));
    let mut cuts = rand::seq::index::sample(rng, total - 1, parts - 1).into_vec();
    cuts.iter_mut().for_each(|c| *c += 1);
    cuts.sort_unstable();
    let mut lengths = Vec::with_capacity(parts);
    let mut previous = 0;
    for cut in cuts.into_iter().chain(std::iter::once(total)) {
        lengths.push(cut - previous);
        previous = cut;
    }
    lengths
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn spans_split_the_total_into_positive_parts() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for (total, parts) in [(10, 3), (5, 5), (7, 1), (1, 1)] {
            let l = span_lengths(&mut rng, total, parts);
            assert_eq!(l.len(), parts);
            assert_eq!(l.iter().sum::<usize>(), total);
            assert!(l.iter().all(|&x| x > 0));
        }
    }

    #[test]
    fn the_noise_mask_has_the_requested_noise_and_starts_with_a_gap() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        for _ in 0..100 {
            let m = noise_mask(&mut rng, 20, 5, 2);
            assert_eq!(m.len(), 20);
            assert_eq!(m.iter().filter(|&&b| b).count(), 5);
            assert!(!m[0]);
            let runs = m.windows(2).filter(|w| !w[0] && w[1]).count();
            assert_eq!(runs, 2);
        }
    }
}
