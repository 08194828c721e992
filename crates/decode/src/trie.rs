//! A prefix tree over item identifiers' token ids.

use std::collections::{HashMap, HashSet};

/// Why a trie could not be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TrieError {
    /// An item has no tokens.
    #[error("item {0} has an empty token sequence")]
    Empty(usize),
    /// Two items have the same tokens.
    #[error("items {0} and {1} have the same token sequence")]
    Duplicate(usize, usize),
    /// An item's tokens are a prefix of another's, so decoding could not
    /// tell where it ends (sequences should end in `</s>`).
    #[error("item {0}'s tokens are a prefix of item {1}'s; end every sequence with </s>")]
    Prefix(usize, usize),
}

#[derive(Debug, Clone, Default)]
struct Node {
    /// `(token, child)`, sorted by token.
    children: Vec<(u32, u32)>,
    /// The item this node completes.
    item: Option<u32>,
    /// The node above (the root is its own parent).
    parent: u32,
    /// Items in this node's subtree.
    below: u32,
}

/// The allowed continuations of every prefix of the item identifiers.
#[derive(Debug, Clone)]
pub struct ItemTrie {
    nodes: Vec<Node>,
    /// The node completing each item.
    leaves: Vec<u32>,
    max_len: usize,
}

/// A position in the trie.
pub type NodeId = u32;

/// Nodes whose every item is excluded (see [`ItemTrie::blocked`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockedNodes(HashSet<NodeId>);

impl BlockedNodes {
    /// Whether the search must not enter `node`.
    pub fn contains(&self, node: NodeId) -> bool {
        self.0.contains(&node)
    }
}

impl ItemTrie {
    /// Builds the trie; item `i` is `sequences[i]`.
    pub fn new(sequences: &[Vec<u32>]) -> Result<Self, TrieError> {
        let mut trie = Self {
            nodes: vec![Node::default()],
            leaves: Vec::with_capacity(sequences.len()),
            max_len: 0,
        };
        for tokens in sequences {
            trie.insert(tokens)?;
        }
        Ok(trie)
    }

    /// Whether `tokens` can join the trie as a new item: not empty, not
    /// another item's tokens, and no prefix of another's (nor another a
    /// prefix of them).
    pub fn admits(&self, tokens: &[u32]) -> Result<(), TrieError> {
        let item = self.leaves.len();
        if tokens.is_empty() {
            return Err(TrieError::Empty(item));
        }
        let mut node = 0usize;
        for &token in tokens {
            if let Some(other) = self.nodes[node].item {
                return Err(TrieError::Prefix(other as usize, item));
            }
            match self.step(node as u32, token) {
                Some(child) => node = child as usize,
                None => return Ok(()),
            }
        }
        if let Some(other) = self.nodes[node].item {
            return Err(TrieError::Duplicate(other as usize, item));
        }
        Err(TrieError::Prefix(
            item,
            Self::first_item_below(&self.nodes, node),
        ))
    }

    /// Adds `tokens` as the next item and returns its index; on error the
    /// trie is unchanged (see [`ItemTrie::admits`]).
    pub fn insert(&mut self, tokens: &[u32]) -> Result<usize, TrieError> {
        self.admits(tokens)?;
        let item = self.leaves.len();
        let mut node = 0usize;
        for &token in tokens {
            node = match self.nodes[node]
                .children
                .binary_search_by_key(&token, |c| c.0)
            {
                Ok(i) => self.nodes[node].children[i].1 as usize,
                Err(i) => {
                    let child = self.nodes.len();
                    self.nodes.push(Node {
                        parent: node as u32,
                        ..Node::default()
                    });
                    self.nodes[node].children.insert(i, (token, child as u32));
                    child
                }
            };
        }
        self.nodes[node].item = Some(item as u32);
        self.leaves.push(node as u32);
        self.max_len = self.max_len.max(tokens.len());
        self.for_each_ancestor(item, |node| node.below += 1);
        Ok(item)
    }

    fn first_item_below(nodes: &[Node], mut node: usize) -> usize {
        loop {
            if let Some(item) = nodes[node].item {
                return item as usize;
            }
            node = nodes[node].children[0].1 as usize;
        }
    }

    /// Calls `f` on the node of `item` and every node above it.
    fn for_each_ancestor(&mut self, item: usize, mut f: impl FnMut(&mut Node)) {
        let mut node = self.leaves[item] as usize;
        loop {
            f(&mut self.nodes[node]);
            if node == 0 {
                break;
            }
            node = self.nodes[node].parent as usize;
        }
    }

    /// The nodes below which every item is in `items` (e.g. a user's
    /// history, when it is excluded): a search need not enter them.
    /// Unknown item indices are ignored.
    pub fn blocked(&self, items: &[usize]) -> BlockedNodes {
        let mut counts: HashMap<u32, u32> = HashMap::new();
        let mut distinct: Vec<usize> = items
            .iter()
            .copied()
            .filter(|&i| i < self.leaves.len())
            .collect();
        distinct.sort_unstable();
        distinct.dedup();
        for item in distinct {
            let mut node = self.leaves[item];
            loop {
                *counts.entry(node).or_default() += 1;
                if node == 0 {
                    break;
                }
                node = self.nodes[node as usize].parent;
            }
        }
        BlockedNodes(
            counts
                .into_iter()
                .filter(|&(node, n)| self.nodes[node as usize].below == n)
                .map(|(node, _)| node)
                .collect(),
        )
    }

    /// The root (empty prefix).
    pub fn root(&self) -> NodeId {
        0
    }

    /// Allowed next tokens at `node` with the nodes they lead to.
    pub fn children(&self, node: NodeId) -> &[(u32, NodeId)] {
        &self.nodes[node as usize].children
    }

    /// The item completed at `node`, if any.
    pub fn item(&self, node: NodeId) -> Option<usize> {
        self.nodes[node as usize].item.map(|i| i as usize)
    }

    /// The node after `token` at `node`, if the token is allowed there.
    pub fn step(&self, node: NodeId, token: u32) -> Option<NodeId> {
        let children = self.children(node);
        children
            .binary_search_by_key(&token, |c| c.0)
            .ok()
            .map(|i| children[i].1)
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.leaves.len()
    }

    /// Whether the trie holds no item.
    pub fn is_empty(&self) -> bool {
        self.leaves.is_empty()
    }

    /// Tokens in the longest item.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Number of nodes (for memory accounting).
    pub fn nodes(&self) -> usize {
        self.nodes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_items_and_rejects_ambiguous_catalogues() {
        let trie = ItemTrie::new(&[vec![3, 5, 1], vec![3, 6, 1], vec![4, 1]]).unwrap();
        assert_eq!(
            trie.children(trie.root())
                .iter()
                .map(|c| c.0)
                .collect::<Vec<_>>(),
            [3, 4]
        );
        let n3 = trie.step(trie.root(), 3).unwrap();
        assert_eq!(
            trie.children(n3).iter().map(|c| c.0).collect::<Vec<_>>(),
            [5, 6]
        );
        assert_eq!(trie.step(n3, 7), None);
        let end = trie.step(trie.step(n3, 6).unwrap(), 1).unwrap();
        assert_eq!(trie.item(end), Some(1));
        assert_eq!(trie.len(), 3);
        assert_eq!(
            ItemTrie::new(&[vec![3, 1], vec![3, 1]]).unwrap_err(),
            TrieError::Duplicate(0, 1)
        );
        assert_eq!(
            ItemTrie::new(&[vec![3], vec![3, 1]]).unwrap_err(),
            TrieError::Prefix(0, 1)
        );
        assert_eq!(
            ItemTrie::new(&[vec![3, 1], vec![3]]).unwrap_err(),
            TrieError::Prefix(1, 0)
        );
        assert_eq!(ItemTrie::new(&[vec![]]).unwrap_err(), TrieError::Empty(0));
    }

    #[test]
    fn inserts_new_items_or_refuses_them_unchanged() {
        let mut trie = ItemTrie::new(&[vec![3, 5, 1], vec![4, 1]]).unwrap();
        assert_eq!(trie.insert(&[3, 5, 1]), Err(TrieError::Duplicate(0, 2)));
        assert_eq!(trie.insert(&[3, 5]), Err(TrieError::Prefix(2, 0)));
        assert_eq!(trie.insert(&[4, 1, 1]), Err(TrieError::Prefix(1, 2)));
        assert_eq!(trie.insert(&[]), Err(TrieError::Empty(2)));
        assert_eq!((trie.len(), trie.nodes()), (2, 6));
        assert_eq!(trie.insert(&[3, 7, 2, 1]), Ok(2));
        assert_eq!(trie.max_len(), 4);
        let n3 = trie.step(trie.root(), 3).unwrap();
        let end = [7, 2, 1].iter().fold(n3, |n, &t| trie.step(n, t).unwrap());
        assert_eq!(trie.item(end), Some(2));
        // The new item counts below its ancestors: both items under 3 excluded
        // block 3, one alone does not.
        assert!(!trie.blocked(&[0]).contains(n3));
        assert!(trie.blocked(&[0, 2]).contains(n3));
    }

    #[test]
    fn blocks_only_subtrees_whose_items_are_all_excluded() {
        let trie = ItemTrie::new(&[vec![3, 5, 1], vec![3, 6, 1], vec![4, 1]]).unwrap();
        let n3 = trie.step(trie.root(), 3).unwrap();
        let n35 = trie.step(n3, 5).unwrap();
        let blocked = trie.blocked(&[0]);
        assert!(blocked.contains(n35));
        assert!(!blocked.contains(n3));
        let blocked = trie.blocked(&[1, 0, 0, 99]);
        assert!(blocked.contains(n3));
        assert!(!blocked.contains(trie.root()));
        assert!(trie.blocked(&[0, 1, 2]).contains(trie.root()));
    }
}
