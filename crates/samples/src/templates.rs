//! Every sample template, in one table.
//!
//! The paper's own template strings (its Figure 1(b) and Appendix C) could
//! not be obtained; the first template of each task follows the shape
//! reconstructed in `paper.md` §2.3/§3.2/§3.4 and the others paraphrase it.
//! The P5 templates are P5's own wording (`jeykigung/P5`,
//! `src/all_amazon_templates.py`, ids 2-1, 5-8 and 1-1, as quoted in
//! `paper.md` §2.2). When the paper's wording becomes available it replaces
//! the first row of each task here and nothing else changes.
//!
//! Training samples draw a template uniformly (seeded) from their task's
//! rows; validation and test samples always use the first row, so reported
//! numbers rest on one pinned template (peers.md §4.10).
//!
//! Slots are written `{name}`: `{history}`, `{candidates}`, `{item}` (the
//! item to rate), `{user}` (P5 only), `{option_a}`, `{option_b}`,
//! `{target}` and `{choice}` (targets).

use std::sync::OnceLock;

use crate::Task;
use crate::config::Style;

/// A named place in a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The rendered history.
    History,
    /// The rendered candidate list.
    Candidates,
    /// The item whose rating is asked.
    Item,
    /// The user, in P5's `user_N` form.
    User,
    /// The first BPR option.
    OptionA,
    /// The second BPR option.
    OptionB,
    /// The answer.
    Target,
    /// The BPR option letter of the answer.
    Choice,
}

impl Slot {
    fn parse(name: &str) -> Option<Slot> {
        Some(match name {
            "history" => Slot::History,
            "candidates" => Slot::Candidates,
            "item" => Slot::Item,
            "user" => Slot::User,
            "option_a" => Slot::OptionA,
            "option_b" => Slot::OptionB,
            "target" => Slot::Target,
            "choice" => Slot::Choice,
            _ => return None,
        })
    }
}

/// A row of the table, as written.
#[derive(Debug, Clone, Copy)]
pub struct TemplateSpec {
    /// Stable id, written into every sample.
    pub id: &'static str,
    /// The task.
    pub task: Task,
    /// The wording family.
    pub style: Style,
    /// Where the wording comes from.
    pub source: &'static str,
    /// The input text with slots.
    pub input: &'static str,
    /// The target text with slots.
    pub target: &'static str,
}

const PAPER: &str = "paper.md reconstruction of the paper's shape";
const PARAPHRASE: &str = "paraphrase";

const fn row(
    id: &'static str,
    task: Task,
    style: Style,
    source: &'static str,
    input: &'static str,
    target: &'static str,
) -> TemplateSpec {
    TemplateSpec {
        id,
        task,
        style,
        source,
        input,
        target,
    }
}

use Style::{Informative as I, P5};
use Task::{
    Bpr, MaskedItemModeling as Mim, MaskedLanguageModeling as Mlm, Ranking, Rating, Retrieval,
};

/// The table. The first row of each (task, style) is the pinned evaluation
/// template.
pub const TABLE: &[TemplateSpec] = &[
    row(
        "retrieval-1",
        Retrieval,
        I,
        PAPER,
        "A user has purchased the following items in order: {history}. What is the next item the user will purchase?",
        "{target}",
    ),
    row(
        "retrieval-2",
        Retrieval,
        I,
        PARAPHRASE,
        "Here is a user's purchase history, oldest first: {history}. Predict the item the user will buy next.",
        "{target}",
    ),
    row(
        "retrieval-3",
        Retrieval,
        I,
        PARAPHRASE,
        "Given the items a user bought, in order: {history}. Which item will the user buy next?",
        "{target}",
    ),
    row(
        "ranking-1",
        Ranking,
        I,
        PAPER,
        "A user has purchased the following items in order: {history}. Choose the item the user will purchase next from the following candidates: {candidates}.",
        "{target}",
    ),
    row(
        "ranking-2",
        Ranking,
        I,
        PARAPHRASE,
        "Purchase history, oldest first: {history}. Candidates: {candidates}. Which candidate will the user buy next?",
        "{target}",
    ),
    row(
        "ranking-3",
        Ranking,
        I,
        PARAPHRASE,
        "A user bought these items in order: {history}. Pick the user's next purchase among: {candidates}.",
        "{target}",
    ),
    row(
        "rating-1",
        Rating,
        I,
        PAPER,
        "A user rated the following items: {history}. What rating (1 to 5) will the user give to {item}?",
        "{target}",
    ),
    row(
        "rating-2",
        Rating,
        I,
        PARAPHRASE,
        "Here are a user's ratings, oldest first: {history}. Predict the user's rating from 1 to 5 for {item}.",
        "{target}",
    ),
    row(
        "mim-1",
        Mim,
        I,
        PAPER,
        "A user has purchased the following items in order: {history}. Fill in the masked items.",
        "{target}",
    ),
    row(
        "mim-2",
        Mim,
        I,
        PARAPHRASE,
        "Some items of this purchase history are hidden: {history}. Which items are hidden?",
        "{target}",
    ),
    row(
        "mlm-1",
        Mlm,
        I,
        PAPER,
        "A user has purchased the following items in order: {history}.",
        "{target}",
    ),
    row(
        "mlm-2",
        Mlm,
        I,
        PARAPHRASE,
        "Fill in the missing words of this purchase history: {history}.",
        "{target}",
    ),
    row(
        "bpr-1",
        Bpr,
        I,
        PAPER,
        "A user has purchased the following items in order: {history}. Which item will the user prefer? (A) {option_a} (B) {option_b}",
        "({choice}) {target}",
    ),
    row(
        "bpr-2",
        Bpr,
        I,
        PARAPHRASE,
        "Purchase history, oldest first: {history}. Which of the two items is the user more likely to buy next? (A) {option_a} (B) {option_b}",
        "({choice}) {target}",
    ),
    row(
        "p5-2-1",
        Retrieval,
        P5,
        "P5 template 2-1",
        "Given the following purchase history of {user} : \n {history} \n predict next possible item to be purchased by the user ?",
        "{target}",
    ),
    row(
        "p5-2-example",
        Retrieval,
        P5,
        "P5's published example prompt",
        "According to the purchase history of {user} : \n {history} \n Can you recommend the next possible item to the user ?",
        "{target}",
    ),
    row(
        "p5-5-8",
        Ranking,
        P5,
        "P5 template 5-8",
        "We want to make recommendation for {user} .  Select the best item from these candidates : \n {candidates}",
        "{target}",
    ),
    row(
        "p5-1-1",
        Rating,
        P5,
        "P5 template 1-1",
        "Which star rating will {user} give {item} ? ( 1 being lowest and 5 being highest )",
        "{target}",
    ),
];

/// A piece of a compiled template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    Text(&'static str),
    Slot(Slot),
}

/// A template parsed once into text pieces and slots.
#[derive(Debug, Clone)]
pub struct Compiled {
    pieces: Vec<Piece>,
    literal_len: usize,
}

impl Compiled {
    /// Parses `text`; `None` names the first unknown or unclosed slot.
    pub fn parse(text: &'static str) -> Result<Compiled, String> {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                pieces.push(Piece::Text(&rest[..open]));
            }
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| format!("unclosed slot in `{text}`"))?;
            let name = &rest[open + 1..open + close];
            let slot = Slot::parse(name).ok_or_else(|| format!("unknown slot `{{{name}}}`"))?;
            pieces.push(Piece::Slot(slot));
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest));
        }
        let literal_len = pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.len(),
                Piece::Slot(_) => 0,
            })
            .sum();
        Ok(Compiled {
            pieces,
            literal_len,
        })
    }

    /// Bytes of fixed text.
    pub fn literal_len(&self) -> usize {
        self.literal_len
    }

    /// The slots used, in order.
    pub fn slots(&self) -> impl Iterator<Item = Slot> + '_ {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Slot(s) => Some(*s),
            Piece::Text(_) => None,
        })
    }

    /// Appends the rendered template to `out`, filling slots with `fill`.
    pub fn render(&self, out: &mut String, mut fill: impl FnMut(Slot, &mut String)) {
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Slot(s) => fill(*s, out),
            }
        }
    }
}

/// A row with its texts compiled.
#[derive(Debug, Clone)]
pub struct Template {
    /// The row.
    pub spec: TemplateSpec,
    /// Its input.
    pub input: Compiled,
    /// Its target.
    pub target: Compiled,
}

/// All templates, compiled once.
pub fn all() -> &'static [Template] {
    static COMPILED: OnceLock<Vec<Template>> = OnceLock::new();
    COMPILED.get_or_init(|| {
        TABLE
            .iter()
            .map(|spec| Template {
                spec: *spec,
                // The table is a constant checked by the tests below.
                input: Compiled::parse(spec.input).unwrap_or_else(|e| panic!("{}: {e}", spec.id)),
                target: Compiled::parse(spec.target).unwrap_or_else(|e| panic!("{}: {e}", spec.id)),
            })
            .collect()
    })
}

/// The templates of `task` in `style`, the pinned one first. Auxiliary tasks
/// have informative templates only, whatever the style.
pub fn for_task(task: Task, style: Style) -> Vec<&'static Template> {
    let style = if task.is_recommendation() {
        style
    } else {
        Style::Informative
    };
    all()
        .iter()
        .filter(|t| t.spec.task == task && t.spec.style == style)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses_and_uses_only_its_tasks_slots() {
        for t in all() {
            let input: Vec<Slot> = t.input.slots().collect();
            // P5's direct recommendation and rating prompts show no history.
            assert!(
                input.contains(&Slot::History) || ["p5-5-8", "p5-1-1"].contains(&t.spec.id),
                "{}",
                t.spec.id
            );
            let allowed: &[Slot] = match (t.spec.task, t.spec.style) {
                (Task::Ranking, _) => &[Slot::History, Slot::Candidates, Slot::User],
                (Task::Rating, _) => &[Slot::History, Slot::Item, Slot::User],
                (Task::Bpr, _) => &[Slot::History, Slot::OptionA, Slot::OptionB],
                (_, Style::P5) => &[Slot::History, Slot::User],
                _ => &[Slot::History],
            };
            assert!(
                input.iter().all(|s| allowed.contains(s)),
                "{}: {input:?}",
                t.spec.id
            );
            assert_eq!(
                t.spec.style == Style::P5,
                input.contains(&Slot::User),
                "{}",
                t.spec.id
            );
            assert!(t.target.slots().any(|s| s == Slot::Target), "{}", t.spec.id);
        }
    }

    #[test]
    fn ids_are_unique_and_every_task_has_templates() {
        let mut ids: Vec<&str> = TABLE.iter().map(|t| t.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), TABLE.len());
        for task in Task::ALL {
            assert!(!for_task(task, Style::Informative).is_empty(), "{task:?}");
            assert!(!for_task(task, Style::P5).is_empty(), "{task:?}");
        }
    }

    #[test]
    fn parse_rejects_unknown_and_unclosed_slots() {
        assert!(Compiled::parse("x {nope} y").unwrap_err().contains("nope"));
        assert!(
            Compiled::parse("x {history")
                .unwrap_err()
                .contains("unclosed")
        );
        let c = Compiled::parse("a {target} b").unwrap();
        let mut out = String::new();
        c.render(&mut out, |_, o| o.push('X'));
        assert_eq!(out, "a X b");
        assert_eq!(c.literal_len(), 4);
    }
}
