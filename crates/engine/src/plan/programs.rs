//! How groups are decided over predicate bits: one-block groups 64 at a time, flat blocks,
//! branch programs.

use super::*;

/// How a group is decided over the predicate bits.
#[derive(Clone, Debug)]
pub(super) enum GroupProgram {
    /// One block in two mask terms (only in [`Plan::programs`]; levels decide one-block
    /// groups together, see [`Conjunctions`]).
    Pair([MaskTerm; 2]),
    /// Blocks of criteria (the console's shape, and any formula that flattens to at most
    /// [`MAX_FLAT_BLOCKS`] of them): a range of [`Plan::blocks`], met when one block is.
    Blocks(std::ops::Range<u32>),
    /// Blocks that each fit in two mask terms (most groups of two or three blocks): a range
    /// of [`Plan::pair_blocks`], met when one block is.
    PairBlocks(std::ops::Range<u32>),
    /// Anything else: the entry of a branch program.
    Branches(u32),
}

/// The groups of one level (see [`Plan::levels`]).
#[derive(Debug, Default)]
pub(super) struct Level {
    /// The groups that are one block of criteria (most groups), 64 at a time.
    pub(super) conjunctions: Conjunctions,
    /// How every other group is decided over the bits.
    pub(super) other_groups: Vec<(u32, GroupProgram)>,
    /// The groups of this level that others reference, with their member bit.
    pub(super) publish: Vec<(u32, u32)>,
}

impl Formula {
    /// Calls `f` with every group this formula references.
    pub(crate) fn visit_members(&self, f: &mut impl FnMut(GroupId)) {
        match self {
            Formula::All(items) | Formula::Any(items) => {
                for item in items {
                    item.visit_members(f);
                }
            }
            Formula::Not(item) => item.visit_members(f),
            Formula::Criterion { .. } => {}
            Formula::Member { group, .. } => f(*group),
        }
    }

    /// A criterion or `member of` as a literal over the bits, looking through `not`.
    pub(super) fn literal(&self, member_bit: &[Option<u32>]) -> Option<Literal> {
        match self {
            Formula::Criterion {
                predicate, negated, ..
            } => Some((predicate.0, *negated)),
            Formula::Member { group, negated, .. } => {
                Some((member_bit.get(group.index()).copied().flatten()?, *negated))
            }
            Formula::Not(item) => item
                .literal(member_bit)
                .map(|(bit, negated)| (bit, !negated)),
            _ => None,
        }
    }
}

/// The one-block groups of a level, decided 64 at a time: for each word of group bits, the
/// groups of the word (`base`), and for each predicate bit their criteria read, the groups
/// that bit kills when it is true (criteria negating it) and when it is false.
#[derive(Debug, Default)]
pub(super) struct Conjunctions {
    pub(super) words: Vec<ConjunctionWord>,
    pub(super) kills: Vec<Kill>,
    /// While compiling: by group word, by bit, (kill if true, kill if false).
    pub(super) building:
        std::collections::BTreeMap<u32, std::collections::BTreeMap<u32, (u64, u64)>>,
    pub(super) bases: std::collections::BTreeMap<u32, u64>,
}

#[derive(Clone, Debug)]
pub(super) struct ConjunctionWord {
    pub(super) group_word: u32,
    pub(super) base: u64,
    pub(super) kills: std::ops::Range<u32>,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Kill {
    pub(super) bit: u32,
    pub(super) if_true: u64,
    pub(super) if_false: u64,
}

impl Conjunctions {
    pub(super) fn add(&mut self, group: u32, literals: &[Literal]) {
        let word = group / 64;
        let mask = 1u64 << (group % 64);
        *self.bases.entry(word).or_insert(0) |= mask;
        let kills = self.building.entry(word).or_default();
        for &(bit, negated) in literals {
            let entry = kills.entry(bit).or_insert((0, 0));
            if negated {
                entry.0 |= mask;
            } else {
                entry.1 |= mask;
            }
        }
    }

    pub(super) fn finish(&mut self) {
        for (word, base) in std::mem::take(&mut self.bases) {
            let start = self.kills.len() as u32;
            if let Some(kills) = self.building.get(&word) {
                self.kills
                    .extend(kills.iter().map(|(&bit, &(if_true, if_false))| Kill {
                        bit,
                        if_true,
                        if_false,
                    }));
            }
            self.words.push(ConjunctionWord {
                group_word: word,
                base,
                kills: start..self.kills.len() as u32,
            });
        }
        self.building.clear();
    }
}

/// Up to 64 criteria of one block, tested at once: the block's criteria on predicates
/// `64 * word ..` hold when `(bits[word] ^ flip) & mask == mask` (`flip` has the bits of
/// negated criteria).
#[derive(Clone, Copy, Debug)]
pub(super) struct MaskTerm {
    pub(super) word: u32,
    pub(super) mask: u64,
    pub(super) flip: u64,
}

impl MaskTerm {
    /// The term that always holds.
    pub(super) const TRUE: MaskTerm = MaskTerm {
        word: 0,
        mask: 0,
        flip: 0,
    };

    #[inline]
    pub(super) fn holds(&self, bits: &[u64]) -> bool {
        let word = bits.get(self.word as usize).copied().unwrap_or(0);
        (word ^ self.flip) & self.mask == self.mask
    }
}

/// A block's literals as exactly two mask terms, when they fit.
pub(super) fn term_pair(literals: &[Literal]) -> Option<[MaskTerm; 2]> {
    match mask_terms(literals).as_slice() {
        [] => Some([MaskTerm::TRUE, MaskTerm::TRUE]),
        [one] => Some([*one, MaskTerm::TRUE]),
        [one, two] => Some([*one, *two]),
        _ => None,
    }
}

/// Past this many blocks a group keeps its branch program.
pub(super) const MAX_FLAT_BLOCKS: usize = 16;

/// A criterion as a literal: its predicate, and whether it is negated.
pub(super) type Literal = (u32, bool);

/// The formula as an `any` of `all` blocks of literals, when it has that shape (criteria,
/// `not` of a criterion, `all` of those, `any` of those) within [`MAX_FLAT_BLOCKS`] blocks.
/// Blocks that need a predicate both true and false can never hold and are dropped.
pub(super) fn disjunctive_blocks(
    formula: &Formula,
    literal: &dyn Fn(&Formula) -> Option<Literal>,
) -> Option<Vec<Vec<Literal>>> {
    pub(super) fn block(
        formula: &Formula,
        literal: &dyn Fn(&Formula) -> Option<Literal>,
        out: &mut Vec<Literal>,
    ) -> Option<()> {
        match formula {
            Formula::All(items) => items.iter().try_for_each(|item| block(item, literal, out)),
            other => {
                out.push(literal(other)?);
                Some(())
            }
        }
    }
    let mut blocks = Vec::new();
    match formula {
        Formula::Any(items) => {
            for item in items {
                let mut literals = Vec::new();
                block(item, literal, &mut literals)?;
                blocks.push(literals);
            }
        }
        other => {
            let mut literals = Vec::new();
            block(other, literal, &mut literals)?;
            blocks.push(literals);
        }
    }
    if blocks.len() > MAX_FLAT_BLOCKS {
        return None;
    }
    blocks.retain(|literals| {
        !literals
            .iter()
            .any(|&(p, negated)| literals.contains(&(p, !negated)))
    });
    Some(blocks)
}

/// A block's literals as one mask term per word of predicate bits.
pub(super) fn mask_terms(literals: &[Literal]) -> Vec<MaskTerm> {
    let mut terms: Vec<MaskTerm> = Vec::new();
    for &(predicate, negated) in literals {
        let word = predicate / 64;
        let bit = 1u64 << (predicate % 64);
        let index = match terms.iter().position(|t| t.word == word) {
            Some(index) => index,
            None => {
                terms.push(MaskTerm {
                    word,
                    mask: 0,
                    flip: 0,
                });
                terms.len() - 1
            }
        };
        if let Some(term) = terms.get_mut(index) {
            term.mask |= bit;
            if negated {
                term.flip |= bit;
            }
        }
    }
    terms
}

/// One step of a group's branch program: test a predicate bit, go on to `if_true` or
/// `if_false` (another step, [`BRANCH_TRUE`] or [`BRANCH_FALSE`]).
#[derive(Clone, Copy, Debug)]
pub(super) struct Branch {
    pub(super) predicate: u32,
    pub(super) negated: bool,
    pub(super) if_true: u32,
    pub(super) if_false: u32,
}

pub(super) const BRANCH_TRUE: u32 = u32::MAX;
pub(super) const BRANCH_FALSE: u32 = u32::MAX - 1;

/// Compiles `formula` into branches that go to `if_true` when it holds and to `if_false`
/// otherwise; returns the entry. Each criterion becomes one branch (no duplication): `all`
/// chains its items on success, `any` on failure, `not` swaps the targets.
pub(super) fn emit_branches(
    formula: &Formula,
    if_true: u32,
    if_false: u32,
    literal: &dyn Fn(&Formula) -> Option<Literal>,
    out: &mut Vec<Branch>,
) -> u32 {
    match formula {
        Formula::All(items) => items.iter().rev().fold(if_true, |next, item| {
            emit_branches(item, next, if_false, literal, out)
        }),
        Formula::Any(items) => items.iter().rev().fold(if_false, |next, item| {
            emit_branches(item, if_true, next, literal, out)
        }),
        Formula::Not(item) => emit_branches(item, if_false, if_true, literal, out),
        criterion => {
            // A criterion or `member of` always has a bit; `if_false` covers the impossible.
            let Some((bit, negated)) = literal(criterion) else {
                return if_false;
            };
            out.push(Branch {
                predicate: bit,
                negated,
                if_true,
                if_false,
            });
            (out.len() - 1) as u32
        }
    }
}
